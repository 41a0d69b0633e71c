//! Python's `random` module, number for number.
//!
//! The notebook seeds Python's generator (`random.seed(444)`) and draws
//! delays with `random.randint(0, 10)`, so its output is the same on every
//! run. [`Random`] is the same Mersenne Twister (MT19937), seeded and drawn
//! from exactly as CPython does it, so the Rust version of each cell prints
//! the same numbers as the Python one. [`SharedRandom`] plays the role of
//! the module-level functions: one generator that several tasks share.
//! [`Seed`] is what `random.seed` accepts: integers of any size (a bare
//! literal, or [`int!`](crate::int) past `i128`), strings and bytes.
//!
//! ```
//! use asyncio_rs::random::Random;
//!
//! // Python 3.11 prints [4, 4, 0, 4, 7] for:
//! // random.seed(444); [random.randint(0, 10) for _ in range(5)]
//! let mut rng = Random::new(444);
//! let delays: Vec<i64> = (0..5).map(|_| rng.randint(0, 10)).collect();
//! assert_eq!(delays, [4, 4, 0, 4, 7]);
//! ```

use std::convert::Infallible;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

mod seed;

pub use seed::{NotAnInteger, Seed};

// MT19937's constants, named as in CPython's Modules/_randommodule.c.

/// Number of 32-bit words in the Mersenne Twister state (`N` in CPython).
const N: usize = 624;
/// The "middle word" offset of the twist (`M` in CPython).
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// A seeded Mersenne Twister that draws the same numbers as Python's
/// `random.Random`.
///
/// Cloning copies the state: the clone and the original then draw the same
/// sequence, independently. To share one generator, use [`SharedRandom`].
///
/// ```
/// use asyncio_rs::random::Random;
///
/// let mut rng = Random::new(444);
/// let mut copy = rng.clone();
/// assert_eq!(rng.randint(0, 10), copy.randint(0, 10));
/// ```
#[derive(Clone)]
pub struct Random {
    state: [u32; N],
    /// Position of the next word of `state` to hand out; `N` means "twist first".
    index: usize,
}

impl Random {
    /// A generator seeded with `seed`, like `random.Random(seed)`.
    ///
    /// ```
    /// use asyncio_rs::random::Random;
    ///
    /// // Python: random.Random(444).random()
    /// let mut rng = Random::new(444);
    /// assert_eq!(rng.random(), 0.3088946587429545);
    /// ```
    pub fn new(seed: impl Into<Seed>) -> Random {
        let mut rng = Random {
            state: [0; N],
            index: N,
        };
        rng.seed(seed);
        rng
    }

    /// Restarts the sequence from `seed`, like `random.seed(seed)`.
    ///
    /// `seed` is anything Python's `random.seed` takes, seeded as CPython
    /// seeds it (see [`Seed`]): an integer of any size, whose sign is ignored
    /// (`-5` seeds like `5`) and whose every bit counts; a string; bytes.
    ///
    /// ```
    /// use asyncio_rs::random::Random;
    ///
    /// let mut rng = Random::new(444);
    /// let first = rng.randint(0, 10);
    /// rng.seed(444);
    /// assert_eq!(rng.randint(0, 10), first);
    ///
    /// assert_eq!(Random::new(-444).random(), Random::new(444).random());
    /// // Python: random.seed(10000000000), random.seed("444"), random.seed(b"444")
    /// rng.seed(10000000000);
    /// rng.seed("444");
    /// rng.seed(b"444");
    /// ```
    pub fn seed(&mut self, seed: impl Into<Seed>) {
        self.init_by_array(seed.into().key());
    }

    /// A number of `k` random bits, like `random.getrandbits(k)`.
    ///
    /// `getrandbits(32)` is one raw output of the Mersenne Twister. Fewer
    /// bits keep the top `k` bits of one output. More bits take a second
    /// output, whose top `k - 32` bits go above the first 32.
    /// `getrandbits(0)` is 0 and draws nothing.
    ///
    /// # Panics
    ///
    /// If `k` is more than 64 (Python allows any size; a `u64` does not).
    ///
    /// ```
    /// use asyncio_rs::random::Random;
    ///
    /// let mut rng = Random::new(1);
    /// assert!(rng.getrandbits(3) < 8);
    /// assert_eq!(rng.getrandbits(0), 0);
    /// ```
    pub fn getrandbits(&mut self, k: u32) -> u64 {
        assert!(k <= 64, "getrandbits({k}): at most 64 bits fit in a u64");
        // At most 64 bits were drawn, so the value fits in a u64.
        self.getrandbits_wide(k) as u64
    }

    /// A number in `0..n`, like Python's private `random._randbelow(n)`.
    ///
    /// Draws `getrandbits(k)`, with `k` the bit length of `n`, until the
    /// result is below `n`: every value is equally likely.
    ///
    /// # Panics
    ///
    /// If `n` is 0. (CPython 3.11 does not check, and loops forever.)
    ///
    /// ```
    /// use asyncio_rs::random::Random;
    ///
    /// let mut rng = Random::new(444);
    /// assert!(rng.randbelow(6) < 6);
    /// assert_eq!(rng.randbelow(1), 0);
    /// ```
    pub fn randbelow(&mut self, n: u64) -> u64 {
        assert!(n > 0, "randbelow(0): the range 0..0 is empty");
        // The result is below n, so it fits in a u64.
        self.randbelow_wide(u128::from(n)) as u64
    }

    /// A number in `a..=b`, both ends included, like `random.randint(a, b)`.
    ///
    /// # Panics
    ///
    /// If `b < a`: the range is empty. (Python raises `ValueError`.)
    ///
    /// ```
    /// use asyncio_rs::random::Random;
    ///
    /// let mut rng = Random::new(444);
    /// let roll = rng.randint(1, 6);
    /// assert!((1..=6).contains(&roll));
    /// assert_eq!(rng.randint(7, 7), 7);
    /// // The whole i64 range works too.
    /// rng.randint(i64::MIN, i64::MAX);
    /// ```
    pub fn randint(&mut self, a: i64, b: i64) -> i64 {
        assert!(a <= b, "empty range for randint({a}, {b})");
        // Python: randrange(a, b + 1), that is a + _randbelow(b - a + 1).
        // The width can be 2^64 (for i64::MIN..=i64::MAX), hence i128/u128.
        let width = (i128::from(b) - i128::from(a) + 1) as u128;
        let offset = self.randbelow_wide(width) as i128;
        // a + offset is at most b, so it fits in an i64.
        (i128::from(a) + offset) as i64
    }

    /// A float in `[0.0, 1.0)`, like `random.random()`.
    ///
    /// It uses 53 random bits: 27 from one output and 26 from the next.
    ///
    /// ```
    /// use asyncio_rs::random::Random;
    ///
    /// let mut rng = Random::new(444);
    /// let x = rng.random();
    /// assert!((0.0..1.0).contains(&x));
    /// ```
    pub fn random(&mut self) -> f64 {
        // CPython's random_random.
        let a = self.genrand_uint32() >> 5;
        let b = self.genrand_uint32() >> 6;
        (f64::from(a) * 67108864.0 + f64::from(b)) * (1.0 / 9007199254740992.0)
    }

    /// `getrandbits` for up to 128 bits (CPython's `_random_Random_getrandbits_impl`).
    ///
    /// Words are drawn least significant first; when fewer than 32 bits are
    /// still needed, the word keeps only its top bits. For `k <= 32` this is
    /// CPython's fast path, `genrand_uint32() >> (32 - k)`.
    fn getrandbits_wide(&mut self, k: u32) -> u128 {
        assert!(k <= 128, "getrandbits({k}): at most 128 bits fit in a u128");
        let mut result = 0;
        let mut filled = 0;
        while filled < k {
            let mut word = self.genrand_uint32();
            let needed = k - filled;
            if needed < 32 {
                word >>= 32 - needed;
            }
            result |= u128::from(word) << filled;
            filled += 32;
        }
        result
    }

    /// A number in `0..n` (Lib/random.py's `_randbelow_with_getrandbits`).
    fn randbelow_wide(&mut self, n: u128) -> u128 {
        let k = u128::BITS - n.leading_zeros(); // n.bit_length()
        let mut r = self.getrandbits_wide(k);
        while r >= n {
            r = self.getrandbits_wide(k);
        }
        r
    }

    /// Fills the state from one 32-bit seed (CPython's `init_genrand`).
    fn init_genrand(&mut self, seed: u32) {
        self.state[0] = seed;
        for i in 1..N {
            let prev = self.state[i - 1];
            self.state[i] = 1812433253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        self.index = N;
    }

    /// Fills the state from a key of any length (CPython's `init_by_array`).
    fn init_by_array(&mut self, key: &[u32]) {
        self.init_genrand(19650218);
        let mt = &mut self.state;
        let mut i = 1;
        let mut j = 0;
        for _ in 0..N.max(key.len()) {
            let prev = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ prev.wrapping_mul(1664525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ prev.wrapping_mul(1566083941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000; // the top bit set: the state is never all zeros
    }

    /// The next raw 32-bit output (CPython's `genrand_uint32`).
    fn genrand_uint32(&mut self) -> u32 {
        if self.index >= N {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        // Tempering.
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// Generates the next 624 words at once (the first half of `genrand_uint32`).
    fn twist(&mut self) {
        // CPython writes this as three loops, to avoid the `% N`; the words
        // are updated in the same order, so the results are the same.
        let mt = &mut self.state;
        for kk in 0..N {
            let y = (mt[kk] & UPPER_MASK) | (mt[(kk + 1) % N] & LOWER_MASK);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            mt[kk] = mt[(kk + M) % N] ^ (y >> 1) ^ mag;
        }
        self.index = 0;
    }
}

/// Prints the position in the state, not the 624 words of it.
impl fmt::Debug for Random {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Random")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// Lets a [`Random`] stand in wherever the `rand` crate expects a generator.
///
/// `next_u32` is one raw output (`getrandbits(32)`), `next_u64` is
/// `getrandbits(64)`, and `fill_bytes` writes the same bytes as Python's
/// `randbytes(len)`.
///
/// ```
/// use asyncio_rs::random::Random;
/// use rand::{Rng, RngExt};
///
/// let mut rng = Random::new(444);
/// let mut copy = rng.clone();
/// assert_eq!(rng.next_u32() as u64, copy.getrandbits(32));
///
/// // Anything written for `rand` generators accepts it.
/// fn roll(rng: &mut dyn Rng) -> u8 {
///     rng.random_range(1..=6)
/// }
/// assert!((1..=6).contains(&roll(&mut rng)));
/// ```
impl rand::TryRng for Random {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.genrand_uint32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.getrandbits(64))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        // Python: getrandbits(8 * len).to_bytes(len, "little"). Whole words
        // go in little-endian; a last, partial word gives its *top* bytes,
        // as getrandbits keeps the top bits of a partial word.
        let mut chunks = dst.chunks_exact_mut(4);
        for chunk in &mut chunks {
            chunk.copy_from_slice(&self.genrand_uint32().to_le_bytes());
        }
        let tail = chunks.into_remainder();
        if !tail.is_empty() {
            let word = self.genrand_uint32() >> (32 - 8 * tail.len());
            tail.copy_from_slice(&word.to_le_bytes()[..tail.len()]);
        }
        Ok(())
    }
}

/// One [`Random`] shared by everything that holds a clone of this handle:
/// the counterpart of Python's module-level `random.seed`, `random.randint`...
///
/// Cloning is cheap and does **not** copy the generator: all clones draw
/// from the same sequence, so tasks that take turns drawing get the numbers
/// Python's tasks would get from the global generator. A notebook can keep
/// one in a variable across cells.
///
/// If a cell panics while drawing, the generator stays usable: the lock's
/// poisoning is ignored.
///
/// ```
/// use asyncio_rs::random::{Random, SharedRandom};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // Python: random.seed(444), then two tasks call random.randint(0, 10).
/// let rng = SharedRandom::new(444);
/// let first = tokio::spawn({
///     let rng = rng.clone();
///     async move { rng.randint(0, 10) }
/// });
/// let first = first.await.unwrap();
/// let second = rng.randint(0, 10);
///
/// // The task and main drew from one sequence, one after the other.
/// let mut alone = Random::new(444);
/// assert_eq!([first, second], [alone.randint(0, 10), alone.randint(0, 10)]);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct SharedRandom {
    inner: Arc<Mutex<Random>>,
}

impl SharedRandom {
    /// A shared generator seeded with `seed`, like `random.seed(seed)`.
    ///
    /// (Python seeds from the operating system when not told otherwise;
    /// here the seed is always explicit, so runs repeat.)
    ///
    /// ```
    /// use asyncio_rs::random::{Random, SharedRandom};
    ///
    /// let shared = SharedRandom::new(444);
    /// assert_eq!(shared.random(), Random::new(444).random());
    /// ```
    pub fn new(seed: impl Into<Seed>) -> SharedRandom {
        SharedRandom::from(Random::new(seed))
    }

    /// Restarts the shared sequence from `seed`, for every clone.
    ///
    /// ```
    /// use asyncio_rs::random::SharedRandom;
    ///
    /// let rng = SharedRandom::new(444);
    /// let other = rng.clone();
    /// let first = rng.randint(0, 10);
    /// other.seed(444);
    /// assert_eq!(rng.randint(0, 10), first);
    /// ```
    pub fn seed(&self, seed: impl Into<Seed>) {
        self.lock().seed(seed);
    }

    /// Like [`Random::randint`], on the shared generator.
    ///
    /// # Panics
    ///
    /// If `b < a`.
    ///
    /// ```
    /// use asyncio_rs::random::SharedRandom;
    ///
    /// let rng = SharedRandom::new(444);
    /// assert!((0..=10).contains(&rng.randint(0, 10)));
    /// ```
    pub fn randint(&self, a: i64, b: i64) -> i64 {
        self.lock().randint(a, b)
    }

    /// Like [`Random::random`], on the shared generator.
    ///
    /// ```
    /// use asyncio_rs::random::SharedRandom;
    ///
    /// let rng = SharedRandom::new(444);
    /// assert!((0.0..1.0).contains(&rng.random()));
    /// ```
    pub fn random(&self) -> f64 {
        self.lock().random()
    }

    /// Like [`Random::getrandbits`], on the shared generator.
    ///
    /// # Panics
    ///
    /// If `k` is more than 64.
    ///
    /// ```
    /// use asyncio_rs::random::SharedRandom;
    ///
    /// let rng = SharedRandom::new(444);
    /// assert!(rng.getrandbits(4) < 16);
    /// ```
    pub fn getrandbits(&self, k: u32) -> u64 {
        self.lock().getrandbits(k)
    }

    /// The generator, even if another holder panicked while using it.
    fn lock(&self) -> MutexGuard<'_, Random> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Shares an existing generator, from its current position on.
///
/// ```
/// use asyncio_rs::random::{Random, SharedRandom};
///
/// let mut rng = Random::new(444);
/// rng.randint(0, 10);
/// let shared = SharedRandom::from(rng.clone());
/// assert_eq!(shared.randint(0, 10), rng.randint(0, 10));
/// ```
impl From<Random> for SharedRandom {
    fn from(rng: Random) -> SharedRandom {
        SharedRandom {
            inner: Arc::new(Mutex::new(rng)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    #[test]
    #[should_panic(expected = "empty range for randint(5, 4)")]
    fn randint_panics_on_an_empty_range() {
        Random::new(0).randint(5, 4);
    }

    #[test]
    #[should_panic(expected = "getrandbits(65)")]
    fn getrandbits_panics_above_64_bits() {
        Random::new(0).getrandbits(65);
    }

    #[test]
    #[should_panic(expected = "randbelow(0)")]
    fn randbelow_panics_on_zero() {
        Random::new(0).randbelow(0);
    }

    #[test]
    fn seed_restarts_the_sequence() {
        let mut rng = Random::new(444);
        let first: Vec<u64> = (0..700).map(|_| rng.getrandbits(32)).collect();
        rng.seed(444);
        let again: Vec<u64> = (0..700).map(|_| rng.getrandbits(32)).collect();
        assert_eq!(first, again);

        rng.seed(445);
        let other: Vec<u64> = (0..700).map(|_| rng.getrandbits(32)).collect();
        assert_ne!(first, other);
    }

    #[test]
    fn the_sign_of_the_seed_is_ignored() {
        assert_eq!(
            Random::new(-7).getrandbits(64),
            Random::new(7).getrandbits(64)
        );
        assert_eq!(Random::new(-444).random(), Random::new(444).random());
        // |i128::MIN| = 2^127 does not fit in an i128, but still seeds.
        let mut min = Random::new(i128::MIN);
        let mut max = Random::new(i128::MAX);
        assert_ne!(min.getrandbits(64), max.getrandbits(64));
    }

    #[test]
    fn getrandbits_zero_draws_nothing() {
        let mut rng = Random::new(1);
        let mut copy = rng.clone();
        assert_eq!(rng.getrandbits(0), 0);
        assert_eq!(rng.getrandbits(32), copy.getrandbits(32));
    }

    #[test]
    fn clones_of_shared_random_share_one_state() {
        let shared = SharedRandom::new(444);
        let clone = shared.clone();
        let mut alone = Random::new(444);
        assert_eq!(shared.randint(0, 10), alone.randint(0, 10));
        assert_eq!(clone.randint(0, 10), alone.randint(0, 10));
        assert_eq!(shared.random(), alone.random());
        clone.seed(1);
        assert_eq!(shared.getrandbits(64), Random::new(1).getrandbits(64));
    }

    #[test]
    fn a_panic_does_not_poison_shared_random() {
        let shared = SharedRandom::new(444);
        let clone = shared.clone();
        let result = catch_unwind(AssertUnwindSafe(|| {
            let _guard = clone.lock();
            panic!("a cell failed while holding the generator");
        }));
        assert!(result.is_err());
        assert_eq!(shared.randint(0, 10), Random::new(444).randint(0, 10));
    }

    #[test]
    fn debug_is_short() {
        let text = format!("{:?}", Random::new(0));
        assert_eq!(text, "Random { index: 624, .. }");
    }
}
