//! What `random.seed(a)` accepts, as CPython reads it: an integer of any size
//! and sign, a `str`, or `bytes`.
//!
//! CPython seeds its Mersenne Twister with a *key*: the 32-bit words of
//! `abs(a)`, least significant first. A `str` is first encoded as UTF-8; bytes
//! are followed by their SHA-512 digest and read as one big-endian integer
//! (the "version 2" seeding of Lib/random.py), which then seeds as any integer
//! does. A [`Seed`] is that key, made from whatever the reader passes.
//!
//! A bare integer literal works at any size Rust can write one. The only
//! integer type with a `From` impl here is `i128`, so rustc infers a literal
//! passed to `seed` as an `i128` rather than falling back to `i32`:
//! `random.seed(10000000000)` and `random.seed(-444)` compile. Past `i128`,
//! rustc itself refuses the literal before any function sees it, so
//! [`int!`](crate::int) takes it as text, and [`Seed::int`] reads a string.
//!
//! ```
//! use asyncio_rs::int;
//! use asyncio_rs::random::Random;
//!
//! // Python: random.seed(10000000000), random.seed("abc"), random.seed(b"abc")
//! let mut rng = Random::new(10000000000);
//! rng.seed("abc");
//! rng.seed(b"abc");
//! // Python: random.seed(123456789012345678901234567890123456789012345678901234567890)
//! rng.seed(int!(123456789012345678901234567890123456789012345678901234567890));
//! ```

use std::fmt;

use sha2::{Digest, Sha512};

/// A seed for [`Random`](super::Random) and
/// [`SharedRandom`](super::SharedRandom): an integer, a string or bytes,
/// turned into the key CPython's `random.seed` would use.
///
/// `random.seed(x)` takes anything that converts into a `Seed`: an integer
/// literal or an `i128`; `&str` or `String` (Python's `str`); `&[u8]`,
/// `b"..."`, `[u8; N]` or `Vec<u8>` (Python's `bytes` and `bytearray`); and
/// integers of any size from [`int!`](crate::int) or [`Seed::int`]. An
/// integer variable of another type converts with `i128::from(n)`.
///
/// ```
/// use asyncio_rs::random::Seed;
///
/// // The sign is ignored, as in CPython.
/// assert_eq!(Seed::from(-444), Seed::from(444));
/// // A str seeds as its UTF-8 bytes.
/// assert_eq!(Seed::from("héllo"), Seed::from("héllo".as_bytes()));
/// // Text read as an integer is not a str seed.
/// assert_eq!(Seed::int("444").unwrap(), Seed::from(444));
/// assert_ne!(Seed::from("444"), Seed::from(444));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seed {
    /// `abs(a)` in 32-bit words, least significant first, without leading
    /// zero words but at least one word (CPython seeds 0 with the key `[0]`).
    key: Vec<u32>,
}

impl Seed {
    /// The integer written in `text`, like Python's `int(text, 0)`: for seeds
    /// too large for an `i128`, typed or read from somewhere.
    ///
    /// `text` is an integer literal as Rust or Python writes it: an optional
    /// sign, then decimal digits, or `0x`, `0o` or `0b` and digits in that
    /// base, with `_` allowed between them. Spaces around the text and after
    /// the sign are ignored.
    ///
    /// ```
    /// use asyncio_rs::random::Seed;
    ///
    /// let big = Seed::int("-123456789012345678901234567890123456789012345678901234567890").unwrap();
    /// assert_eq!(big.key().len(), 7); // 197 bits; the sign is ignored
    /// assert_eq!(Seed::int("0xff").unwrap(), Seed::from(255));
    /// assert_eq!(Seed::int("1_000").unwrap(), Seed::from(1000));
    /// assert_eq!(
    ///     Seed::int("12e3").unwrap_err().to_string(),
    ///     "\"12e3\" is not an integer: 'e' is not a digit in base 10"
    /// );
    /// ```
    pub fn int(text: &str) -> Result<Seed, NotAnInteger> {
        let (radix, digits) = scan(text).map_err(|problem| NotAnInteger {
            text: text.to_string(),
            problem,
        })?;
        let mut key = vec![0u32];
        for digit in digits
            .iter()
            .map(|&byte| digit_value(byte))
            .filter(|&d| d < radix)
        {
            // key = key * radix + digit, in base 2^32.
            let mut carry = u64::from(digit);
            for word in &mut key {
                let value = u64::from(*word) * u64::from(radix) + carry;
                *word = value as u32;
                carry = value >> 32;
            }
            if carry != 0 {
                key.push(carry as u32);
            }
        }
        Ok(Seed::from_key(key))
    }

    /// The key `init_by_array` starts from: `abs(a)` in 32-bit words, least
    /// significant first.
    ///
    /// ```
    /// use asyncio_rs::random::Seed;
    ///
    /// assert_eq!(Seed::from(0).key(), [0]);
    /// assert_eq!(Seed::from(-(1 << 32) - 5).key(), [5, 1]);
    /// ```
    pub fn key(&self) -> &[u32] {
        &self.key
    }

    /// Python's version-2 seeding of `str`, `bytes` and `bytearray`:
    /// `int.from_bytes(a + sha512(a).digest())`, big-endian.
    fn from_bytes(bytes: &[u8]) -> Seed {
        let mut number = bytes.to_vec();
        number.extend_from_slice(&Sha512::digest(bytes));
        // From the end: the last four bytes are the least significant word.
        let key = number
            .rchunks(4)
            .map(|chunk| {
                chunk
                    .iter()
                    .fold(0, |word, &byte| word << 8 | u32::from(byte))
            })
            .collect();
        Seed::from_key(key)
    }

    /// Drops leading zero words, keeping at least one, as CPython's key has
    /// just as many words as the number has bits.
    fn from_key(mut key: Vec<u32>) -> Seed {
        while key.len() > 1 && key.last() == Some(&0) {
            key.pop();
        }
        if key.is_empty() {
            key.push(0);
        }
        Seed { key }
    }

    /// Checks, at compile time, the text that [`int!`](crate::int) was given.
    /// Not for direct use.
    #[doc(hidden)]
    pub const fn check_int_literal(text: &str) {
        if let Err(problem) = scan(text) {
            panic!("{}", problem);
        }
    }
}

/// Splits an integer literal into its radix and its digits (with their `_`),
/// or says what is wrong with it. A `const fn`, so that [`int!`](crate::int)
/// checks its literal at compile time with the same rules.
const fn scan(text: &str) -> Result<(u32, &[u8]), &'static str> {
    let mut rest = text.as_bytes().trim_ascii();
    if let [b'-' | b'+', after @ ..] = rest {
        rest = after.trim_ascii_start();
    }
    let mut radix = 10;
    if let [b'0', prefix, after @ ..] = rest {
        radix = match prefix {
            b'x' | b'X' => 16,
            b'o' | b'O' => 8,
            b'b' | b'B' => 2,
            _ => 10,
        };
        if radix != 10 {
            rest = after;
        }
    }
    let mut any_digit = false;
    let mut i = 0;
    while i < rest.len() {
        let byte = rest[i];
        if radix == 10 && i == 0 && !byte.is_ascii_digit() {
            // `_1` or `x` would be a name: a variable goes in `Seed::from`.
            return Err("an integer starts with a digit");
        } else if byte == b'_' {
            // Between digits, or right after a prefix, as in `0x_ff`.
        } else if digit_value(byte) < radix {
            any_digit = true;
        } else {
            return Err(not_a_digit(byte, radix));
        }
        i += 1;
    }
    if !any_digit {
        return Err("there are no digits");
    }
    Ok((radix, rest))
}

/// The value of an ASCII digit or letter (`a` and `A` are 10), or 36 for
/// anything else.
const fn digit_value(byte: u8) -> u32 {
    match byte {
        b'0'..=b'9' => (byte - b'0') as u32,
        b'a'..=b'z' => (byte - b'a') as u32 + 10,
        b'A'..=b'Z' => (byte - b'A') as u32 + 10,
        _ => 36,
    }
}

/// Why `byte` cannot stand in an integer of base `radix` (a `&'static str`,
/// so that a `const fn` can report it).
const fn not_a_digit(byte: u8, radix: u32) -> &'static str {
    match (byte, radix) {
        (b'e' | b'E', 10) => "'e' is not a digit in base 10",
        (b'.', _) => "an integer has no '.'",
        (b'i' | b'u', _) => "a type suffix such as i128 or u64 does not belong in an integer",
        (_, 2) => "an integer in base 2 has the digits 0 and 1",
        (_, 8) => "an integer in base 8 has the digits 0 to 7",
        (_, 16) => "an integer in base 16 has the digits 0 to 9 and a to f",
        _ => "an integer in base 10 has the digits 0 to 9",
    }
}

/// Text that [`Seed::int`] could not read as an integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAnInteger {
    text: String,
    problem: &'static str,
}

impl fmt::Display for NotAnInteger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not an integer: {}", self.text, self.problem)
    }
}

impl std::error::Error for NotAnInteger {}

/// An integer seed, like `random.seed(n)`. This is the only integer type that
/// converts, so that rustc infers a bare literal as an `i128`; an integer of
/// another type converts with `i128::from(n)`.
impl From<i128> for Seed {
    fn from(n: i128) -> Seed {
        // `unsigned_abs`, because `i128::MIN.abs()` does not fit in an i128.
        let magnitude = n.unsigned_abs();
        Seed::from_key((0..4).map(|i| (magnitude >> (32 * i)) as u32).collect())
    }
}

/// A `str` seed: its UTF-8 bytes, as `random.seed("abc")` encodes them.
impl From<&str> for Seed {
    fn from(text: &str) -> Seed {
        Seed::from_bytes(text.as_bytes())
    }
}

/// A `str` seed.
impl From<String> for Seed {
    fn from(text: String) -> Seed {
        Seed::from(text.as_str())
    }
}

/// A `str` seed.
impl From<&String> for Seed {
    fn from(text: &String) -> Seed {
        Seed::from(text.as_str())
    }
}

/// A `bytes` seed.
impl From<&[u8]> for Seed {
    fn from(bytes: &[u8]) -> Seed {
        Seed::from_bytes(bytes)
    }
}

/// A `bytes` seed, written `b"..."`.
impl<const N: usize> From<&[u8; N]> for Seed {
    fn from(bytes: &[u8; N]) -> Seed {
        Seed::from_bytes(bytes)
    }
}

/// A `bytes` seed.
impl<const N: usize> From<[u8; N]> for Seed {
    fn from(bytes: [u8; N]) -> Seed {
        Seed::from_bytes(&bytes)
    }
}

/// A `bytearray` seed.
impl From<Vec<u8>> for Seed {
    fn from(bytes: Vec<u8>) -> Seed {
        Seed::from_bytes(&bytes)
    }
}

/// A `bytearray` seed.
impl From<&Vec<u8>> for Seed {
    fn from(bytes: &Vec<u8>) -> Seed {
        Seed::from_bytes(bytes)
    }
}

/// An integer seed of any size, written as a literal: what `random.seed(n)`
/// takes when `n` is too large for an `i128`.
///
/// rustc refuses an integer literal past 128 bits wherever it appears in an
/// expression ("integer literal is too large"), and one past `i128::MAX`
/// passed to `seed` ("literal out of range for `i128`"). Inside `int!(...)`
/// the literal is only text, so any size goes: decimal, or `0x`, `0o`, `0b`,
/// with `_` separators and an optional sign. A malformed literal is a compile
/// error, as it would be in Python.
///
/// ```
/// use asyncio_rs::int;
/// use asyncio_rs::random::{Random, Seed};
///
/// // Python: random.seed(-123456789012345678901234567890123456789012345678901234567890)
/// let mut rng = Random::new(int!(-123456789012345678901234567890123456789012345678901234567890));
/// assert_eq!(int!(0xffff_ffff_ffff_ffff_ffff), Seed::int("0xffffffffffffffffffff").unwrap());
/// assert_eq!(int!(444), Seed::from(444));
/// ```
///
/// ```compile_fail
/// // error[E0080]: evaluation panicked: an integer in base 10 has the digits 0 to 9
/// let seed = asyncio_rs::int!(12ab);
/// ```
#[macro_export]
macro_rules! int {
    ($($literal:tt)+) => {{
        const TEXT: &str = stringify!($($literal)+);
        const { $crate::random::Seed::check_int_literal(TEXT) };
        match $crate::random::Seed::int(TEXT) {
            Ok(seed) => seed,
            Err(_) => unreachable!("int!: the literal was checked at compile time"),
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_become_their_words_least_significant_first() {
        assert_eq!(Seed::from(0).key(), [0]);
        assert_eq!(Seed::from(1 << 32).key(), [0, 1]);
        assert_eq!(Seed::from(i128::MIN).key(), [0, 0, 0, 1 << 31]);
        assert_eq!(
            Seed::from(i128::MAX).key(),
            [u32::MAX, u32::MAX, u32::MAX, u32::MAX >> 1]
        );
        assert_eq!(Seed::int("0").unwrap().key(), [0]);
        assert_eq!(
            Seed::int("-0x1_0000_0000_0000_0000_0000_0000_0000_0000")
                .unwrap()
                .key(),
            [0, 0, 0, 0, 1]
        );
    }

    #[test]
    fn every_base_reads_the_same_number() {
        let decimal = Seed::int("340282366920938463463374607431768211457").unwrap(); // 2^128 + 1
        assert_eq!(decimal.key(), [1, 0, 0, 0, 1]);
        assert_eq!(
            Seed::int("0x100000000000000000000000000000001").unwrap(),
            decimal
        );
        assert_eq!(
            Seed::int("0o4_000000000000000000000000000000000000000001").unwrap(),
            decimal
        );
        let binary = format!("0b1{}1", "0".repeat(127));
        assert_eq!(Seed::int(&binary).unwrap(), decimal);
        assert_eq!(
            Seed::int(" - 340_282_366_920_938_463_463_374_607_431_768_211_457 ").unwrap(),
            decimal
        );
    }

    #[test]
    fn malformed_integers_say_what_is_wrong() {
        for (text, problem) in [
            ("", "there are no digits"),
            ("-", "there are no digits"),
            ("0x", "there are no digits"),
            ("_1", "an integer starts with a digit"),
            ("1.5", "an integer has no '.'"),
            ("1e10", "'e' is not a digit in base 10"),
            (
                "10i128",
                "a type suffix such as i128 or u64 does not belong in an integer",
            ),
            ("0b102", "an integer in base 2 has the digits 0 and 1"),
            ("0o8", "an integer in base 8 has the digits 0 to 7"),
            (
                "0xfg",
                "an integer in base 16 has the digits 0 to 9 and a to f",
            ),
            ("12ab", "an integer in base 10 has the digits 0 to 9"),
            ("--1", "an integer starts with a digit"),
            ("x", "an integer starts with a digit"),
        ] {
            let error = Seed::int(text).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("{text:?} is not an integer: {problem}")
            );
        }
    }

    #[test]
    fn bytes_are_read_big_endian_after_their_digest() {
        // b"" + sha512(b""): 64 bytes, 16 words; the digest's last 4 bytes
        // are the least significant word.
        let digest = Sha512::digest(b"");
        let seed = Seed::from(b"");
        assert_eq!(seed.key().len(), 16);
        assert_eq!(
            seed.key()[0],
            u32::from_be_bytes(digest[60..64].try_into().unwrap())
        );
        // Five bytes in front: one more word, holding the first byte alone.
        let seed = Seed::from(b"\x07abcd");
        assert_eq!(seed.key().len(), 18);
        assert_eq!(seed.key()[17], 7);
    }

    #[test]
    fn leading_zero_bytes_are_not_words() {
        // As an integer, b"\0\0\0\0\0" + digest has the digest's value.
        assert_eq!(Seed::from(b"\0\0\0\0\0").key().len(), 16);
    }

    #[test]
    fn every_string_and_bytes_form_agrees() {
        let text = "日本語";
        let expected = Seed::from(text.as_bytes());
        assert_eq!(Seed::from(text.to_string()), expected);
        assert_eq!(Seed::from(&text.to_string()), expected);
        assert_eq!(Seed::from(text.as_bytes().to_vec()), expected);
        assert_eq!(Seed::from(&text.as_bytes().to_vec()), expected);
        let array: [u8; 9] = text.as_bytes().try_into().unwrap();
        assert_eq!(Seed::from(array), expected);
        assert_eq!(Seed::from(&array), expected);
    }
}
