//! Parsing of sizes given on the command line: `65536`, `64K`, `8M`, `8MiB`, `1G`,
//! and for limits also `unlimited`.

/// Bytes for a size such as `8M`; K/M/G are powers of 1024 (`8MiB` and `8m` too).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits_end);
    if num.is_empty() {
        return Err(format!("'{s}' is not a size (examples: 65536, 64K, 8M, 1G)"));
    }
    let n: u64 = num.parse().map_err(|_| format!("'{s}' is too large"))?;
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("'{s}': unknown unit '{unit}' (use K, M or G)")),
    };
    n.checked_mul(mult).ok_or_else(|| format!("'{s}' is too large"))
}

/// A resource limit: a size, or `unlimited` (RLIM_INFINITY).
pub fn parse_limit(s: &str) -> Result<u64, String> {
    if s.eq_ignore_ascii_case("unlimited") || s.eq_ignore_ascii_case("infinity") {
        Ok(u64::MAX)
    } else {
        parse_size(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("M").is_err());
        assert!(parse_size("8X").is_err());
        assert!(parse_size("99999999999999999999").is_err());
        assert_eq!(parse_limit("unlimited"), Ok(u64::MAX));
    }
}
