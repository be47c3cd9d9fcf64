//! Refusals that say nothing about the rate. A busy API, a gateway or a fault injector may
//! answer 1002 (or 429) to a share of requests whatever the rate they come at; a pacer that cuts
//! at every such refusal spirals down to a crawl, as TCP does on a lossy link (measured: 9.6 ×
//! the ideal time at a 5 % share). A rate limit refuses only above the limit, so the share of
//! refusals among requests sent below a rate the account just accepted (the regrowth after a
//! cut) is the share the rate does not explain. That share is what [`Noise`] estimates; a
//! refusal then cuts only when the refusals outnumber what the noise explains (with no noise, the
//! first one does, as before), and a cut the estimate shows was spurious is undone (as TCP undoes
//! a spurious window reduction).

/// Answers, and refusals among them, pooled before the estimate is believed: one refusal in a
/// clean account's regrowths is chance, and treating it as noise would let the rate run
/// past the limit.
const EVIDENCE: (f64, f64) = (20.0, 2.0);
/// Answers pooled before the old ones count half (a sliding memory of roughly this many).
const MEMORY: f64 = 512.0;
/// Refusals more than the noise explains: as many or more would come from noise alone with at
/// most this probability.
const SIGNIFICANCE: f64 = 0.05;

/// Refusals among answered requests.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    /// Requests refused for the rate.
    pub refused: u32,
    /// Requests answered: refused or succeeded.
    pub answered: u32,
}

impl Tally {
    /// Counts one answer.
    pub fn add(&mut self, refused: bool) {
        self.answered += 1;
        self.refused += u32::from(refused);
    }

    /// Keeps the tally to about the last `keep` answers, halving it when it grows past them.
    pub fn add_recent(&mut self, refused: bool, keep: u32) {
        self.add(refused);
        if self.answered > keep {
            self.answered /= 2;
            self.refused /= 2;
        }
    }
}

/// The share of refusals the rate does not explain, pooled over the regrowths after cuts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Noise {
    refused: f64,
    answered: f64,
}

impl Noise {
    /// The estimated share (0 until enough answers are pooled).
    pub fn share(&self) -> f64 {
        if self.answered >= EVIDENCE.0 && self.refused >= EVIDENCE.1 {
            self.refused / self.answered
        } else {
            0.0
        }
    }

    /// Whether a refusal has been seen below a rate the account accepted (recently enough to
    /// be remembered).
    pub fn suspected(&self) -> bool {
        self.refused >= 1.0
    }

    /// Pools what a regrowth saw.
    pub fn pool(&mut self, seen: Tally) {
        self.refused += f64::from(seen.refused);
        self.answered += f64::from(seen.answered);
        if self.answered > MEMORY {
            self.refused /= 2.0;
            self.answered /= 2.0;
        }
    }

    /// Whether `seen` holds more refusals than the noise explains: noise alone would give as
    /// many with less than [`SIGNIFICANCE`] probability (refusals are rare events: Poisson).
    /// With no noise, any refusal is more.
    pub fn explains_not(&self, seen: Tally) -> bool {
        seen.refused > 0
            && poisson_at_least(seen.refused, self.share() * f64::from(seen.answered))
                < SIGNIFICANCE
    }
}

/// P(X ≥ k) for X ~ Poisson(λ).
fn poisson_at_least(k: u32, lambda: f64) -> f64 {
    let mut term = (-lambda).exp();
    let mut below = 0.0;
    for i in 0..k {
        below += term;
        term *= lambda / f64::from(i + 1);
    }
    (1.0 - below).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(refused: u32, answered: u32) -> Tally {
        Tally { refused, answered }
    }

    #[test]
    fn without_noise_one_refusal_is_the_rate() {
        let noise = Noise::default();
        assert!(noise.explains_not(tally(1, 100)));
        assert!(!noise.explains_not(tally(0, 100)));
    }

    #[test]
    fn a_steady_share_is_explained_and_more_is_not() {
        let mut noise = Noise::default();
        noise.pool(tally(3, 10));
        assert_eq!(noise.share(), 0.0, "too little to believe");
        noise.pool(tally(2, 90));
        assert!((noise.share() - 0.05).abs() < 1e-9);
        assert!(!noise.explains_not(tally(1, 20)));
        assert!(
            !noise.explains_not(tally(6, 64)),
            "3.2 expected: 6 is chance"
        );
        assert!(noise.explains_not(tally(8, 64)), "8 is not");
    }

    #[test]
    fn one_stray_refusal_is_not_noise() {
        let mut noise = Noise::default();
        noise.pool(tally(1, 200));
        assert_eq!(noise.share(), 0.0);
        assert!(noise.explains_not(tally(1, 64)));
    }

    #[test]
    fn poisson_tail() {
        assert!((poisson_at_least(0, 3.0) - 1.0).abs() < 1e-12);
        assert!((poisson_at_least(1, 0.5) - (1.0 - (-0.5f64).exp())).abs() < 1e-12);
        // P(X ≥ 7 | λ = 3.2) ≈ 4.5 %.
        assert!((poisson_at_least(7, 3.2) - 0.0446).abs() < 0.001);
    }

    #[test]
    fn old_answers_fade() {
        let mut noise = Noise::default();
        noise.pool(tally(50, 500));
        for _ in 0..10 {
            noise.pool(tally(0, 100));
        }
        assert!(noise.share() < 0.02, "{}", noise.share());
    }

    #[test]
    fn a_recent_tally_keeps_its_share_and_bounds_its_size() {
        let mut seen = Tally::default();
        for i in 0..1000 {
            seen.add_recent(i % 10 == 0, 64);
        }
        assert!(
            seen.answered <= 64 && seen.refused * 10 <= seen.answered + 10,
            "{seen:?}"
        );
    }
}
