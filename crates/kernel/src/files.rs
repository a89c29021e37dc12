//! The file-descriptor table: guest fds backed by host fds (like qemu-user).

#[derive(Clone, Debug)]
pub struct OpenFile {
    pub host_fd: i32,
    pub cloexec: bool,
}

#[derive(Clone, Debug, Default)]
pub struct FdTable {
    pub fds: Vec<Option<OpenFile>>,
}

impl FdTable {
    /// fds 0, 1, 2 are the emulator's own stdin, stdout, stderr.
    pub fn with_stdio() -> Self {
        Self { fds: (0..3).map(|fd| Some(OpenFile { host_fd: fd, cloexec: false })).collect() }
    }

    pub fn get(&self, fd: u32) -> Option<&OpenFile> {
        self.fds.get(fd as usize).and_then(|f| f.as_ref())
    }
}
