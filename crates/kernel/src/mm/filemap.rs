//! Page cache for file-backed mappings (`filemap_nopage`).

#[derive(Default)]
pub struct PageCache {}
