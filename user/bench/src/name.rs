//! Benchmark case names such as `call-10-cross-as`, built without an
//! allocator (the root task has none).

/// A short name of fixed capacity; what does not fit is cut off.
pub struct Name {
    bytes: [u8; 40],
    len: usize,
}

impl Name {
    /// The empty name.
    pub const fn new() -> Name {
        Name {
            bytes: [0; 40],
            len: 0,
        }
    }

    /// The name followed by `s`.
    pub fn str(mut self, s: &str) -> Name {
        for &b in s.as_bytes() {
            if let Some(slot) = self.bytes.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
        self
    }

    /// The name followed by `n` in decimal.
    pub fn num(self, n: usize) -> Name {
        let mut digits = [0u8; 20];
        let mut k = digits.len();
        let mut v = n;
        while k > 0 {
            k -= 1;
            if let Some(d) = digits.get_mut(k) {
                *d = b'0' + (v % 10) as u8;
            }
            v /= 10;
            if v == 0 {
                break;
            }
        }
        let text = digits.get(k..).unwrap_or(&[]);
        self.str(core::str::from_utf8(text).unwrap_or(""))
    }
}

impl core::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        core::str::from_utf8(self.bytes.get(..self.len).unwrap_or(&[])).unwrap_or("")
    }
}
