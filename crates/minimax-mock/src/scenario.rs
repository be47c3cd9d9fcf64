//! Fault injection: per endpoint, given codes with probabilities or as an exact sequence,
//! latency, stalls, connection resets, truncated bodies, gateway pages and overload, all drawn
//! from a seeded generator so a scenario replays identically.

use minimax_errors::{Endpoint, ErrorCode};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use crate::config::{ConfigError, load_toml};

/// What the mock does with one request instead of (or before) answering normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Answer normally.
    Ok,
    /// Answer with this MiniMax code, in the endpoint's dialect.
    Code(ErrorCode),
    /// Send the headers, then drop the connection mid-body.
    Reset,
    /// Send a normal answer cut off halfway (with a matching Content-Length).
    Truncate,
    /// Answer like a gateway: HTTP 502 with an HTML page.
    Html502,
    /// Wait `stall_ms`, then answer normally.
    Stall,
    /// Server overload: 529 `overloaded_error` (2064) on compatible endpoints, `base_resp` 2064
    /// on native ones.
    Overloaded,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Ok => f.write_str("ok"),
            Action::Code(code) => write!(f, "{}", code.as_i64()),
            Action::Reset => f.write_str("reset"),
            Action::Truncate => f.write_str("truncate"),
            Action::Html502 => f.write_str("html_502"),
            Action::Stall => f.write_str("stall"),
            Action::Overloaded => f.write_str("overloaded"),
        }
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Action, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "ok" | "success" | "0" => Action::Ok,
            "reset" => Action::Reset,
            "truncate" => Action::Truncate,
            "html_502" | "html502" | "502" => Action::Html502,
            "stall" => Action::Stall,
            "overloaded" | "529" => Action::Overloaded,
            other => match other.parse::<i64>() {
                Ok(code) => Action::Code(ErrorCode::new(code)),
                Err(_) => {
                    return Err(format!(
                        "unknown action {s:?}: expected ok, a MiniMax code, reset, truncate, html_502, stall or overloaded"
                    ));
                }
            },
        })
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Action, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(0) => Ok(Action::Ok),
            Raw::Number(code) => Ok(Action::Code(ErrorCode::new(code))),
            Raw::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// An action drawn with a probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weighted {
    /// What happens.
    pub action: Action,
    /// How often, from 0 to 1.
    pub probability: f64,
}

/// Added latency: uniform between `min_ms` and `max_ms`, or, with `median_ms` and `p99_ms`,
/// log-normal with that median and 99th percentile (the long tail real calls have), never
/// under `min_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Latency {
    /// Always at least this long, in milliseconds.
    pub min_ms: u64,
    /// Uniformly up to this long (no randomness when not above `min_ms`).
    pub max_ms: u64,
    /// The median of a log-normal latency, in milliseconds (with `p99_ms`).
    pub median_ms: Option<u64>,
    /// Its 99th percentile, in milliseconds.
    pub p99_ms: Option<u64>,
}

/// The standard normal's 99th percentile.
const Z99: f64 = 2.326_347_874;

impl Latency {
    /// Always `duration`.
    pub fn fixed(duration: Duration) -> Latency {
        let ms = duration.as_millis().min(u128::from(u64::MAX)) as u64;
        Latency {
            min_ms: ms,
            max_ms: ms,
            ..Latency::default()
        }
    }

    /// Log-normal with this median and 99th percentile.
    pub fn log_normal(median: Duration, p99: Duration) -> Latency {
        Latency {
            median_ms: Some(median.as_millis() as u64),
            p99_ms: Some(p99.as_millis() as u64),
            ..Latency::default()
        }
    }

    /// The log-normal's μ and σ (of the logarithm of seconds), when it is one.
    fn log_normal_parameters(&self) -> Option<(f64, f64)> {
        let median = self.median_ms? as f64 / 1000.0;
        let p99 = (self.p99_ms? as f64 / 1000.0).max(median);
        (median > 0.0).then(|| (median.ln(), (p99 / median).ln() / Z99))
    }

    /// One latency drawn from `rng`.
    pub fn sample(&self, rng: &mut fastrand::Rng) -> Duration {
        let floor = Duration::from_millis(self.min_ms);
        if let Some((mu, sigma)) = self.log_normal_parameters() {
            // Box–Muller: one standard normal from two uniforms (fastrand has no normal).
            let (u, v) = (1.0 - rng.f64(), rng.f64());
            let z = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
            let seconds = (mu + sigma * z).exp().min(3600.0);
            return Duration::from_secs_f64(seconds).max(floor);
        }
        if self.max_ms > self.min_ms {
            Duration::from_millis(rng.u64(self.min_ms..=self.max_ms))
        } else {
            floor
        }
    }

    /// The mean latency (of the log-normal, before `min_ms`).
    pub fn mean(&self) -> Duration {
        match self.log_normal_parameters() {
            Some((mu, sigma)) => Duration::from_secs_f64((mu + sigma * sigma / 2.0).exp()),
            None => Duration::from_millis((self.min_ms + self.max_ms.max(self.min_ms)) / 2),
        }
    }
}

/// The faults of one endpoint (or of all, with `endpoint = "*"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EndpointFaults {
    /// The endpoint: a name (`t2a`, `chat-compatible`), a path, or `*` for every endpoint.
    pub endpoint: String,
    /// Actions taken in order, one per request; afterwards `random` applies.
    pub sequence: Vec<Action>,
    /// Start the sequence again when it ends.
    pub repeat: bool,
    /// Actions drawn per request with their probabilities (the rest answer normally).
    pub random: Vec<Weighted>,
    /// Latency added to every request (for a stream: until its first event).
    pub latency: Latency,
    /// How long a streamed answer takes from its first event to its last; the events are
    /// spread evenly over it.
    pub stream: Latency,
    /// How long a `stall` waits, in milliseconds.
    pub stall_ms: u64,
    /// On streaming T2A with a voice that does not exist: send this many audio chunks before
    /// the 2054 error event (`None`: answer 2054 before streaming).
    pub voice_error_after_chunks: Option<u32>,
    /// Send `retry-after-ms` with injected errors, as a proxy in front of MiniMax might.
    pub retry_after_ms: Option<u64>,
}

impl Default for EndpointFaults {
    fn default() -> EndpointFaults {
        EndpointFaults {
            endpoint: "*".to_string(),
            sequence: Vec::new(),
            repeat: false,
            random: Vec::new(),
            latency: Latency::default(),
            stream: Latency::default(),
            stall_ms: 60_000,
            voice_error_after_chunks: None,
            retry_after_ms: None,
        }
    }
}

impl EndpointFaults {
    /// Faults for `endpoint` (`None` for every endpoint).
    pub fn on(endpoint: Option<Endpoint>) -> EndpointFaults {
        EndpointFaults {
            endpoint: endpoint.map_or("*".to_string(), |e| e.as_str().to_string()),
            ..Default::default()
        }
    }

    /// Sets the exact sequence of actions.
    pub fn sequence(mut self, actions: impl IntoIterator<Item = Action>) -> EndpointFaults {
        self.sequence = actions.into_iter().collect();
        self
    }

    /// Adds an action drawn with `probability`.
    pub fn random(mut self, action: Action, probability: f64) -> EndpointFaults {
        self.random.push(Weighted {
            action,
            probability,
        });
        self
    }

    /// Sets the latency range.
    pub fn latency(mut self, min_ms: u64, max_ms: u64) -> EndpointFaults {
        self.latency = Latency {
            min_ms,
            max_ms,
            ..Latency::default()
        };
        self
    }

    /// Sets how long a stall lasts.
    pub fn stall_ms(mut self, ms: u64) -> EndpointFaults {
        self.stall_ms = ms;
        self
    }

    fn matches(&self, endpoint: Endpoint) -> bool {
        self.endpoint == "*"
            || self
                .endpoint
                .parse::<Endpoint>()
                .is_ok_and(|e| e == endpoint)
    }
}

/// A fault-injection scenario.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Seed of the random draws: the same seed and the same requests give the same faults.
    pub seed: u64,
    /// Per-endpoint faults; the first entry matching an endpoint applies.
    #[serde(rename = "endpoint")]
    pub endpoints: Vec<EndpointFaults>,
}

impl Scenario {
    /// An empty scenario (no faults) with a seed.
    pub fn new(seed: u64) -> Scenario {
        Scenario {
            seed,
            endpoints: Vec::new(),
        }
    }

    /// Adds an endpoint's faults.
    pub fn with(mut self, faults: EndpointFaults) -> Scenario {
        self.endpoints.push(faults);
        self
    }

    /// Parses a scenario from TOML, checking endpoint names and probabilities.
    pub fn from_toml(text: &str) -> Result<Scenario, toml::de::Error> {
        let scenario: Scenario = toml::from_str(text)?;
        scenario.check().map_err(serde::de::Error::custom)?;
        Ok(scenario)
    }

    /// Loads a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ConfigError> {
        load_toml(path, Scenario::from_toml)
    }

    fn check(&self) -> Result<(), String> {
        for faults in &self.endpoints {
            if faults.endpoint != "*" && faults.endpoint.parse::<Endpoint>().is_err() {
                return Err(format!("unknown endpoint {:?}", faults.endpoint));
            }
            let total: f64 = faults.random.iter().map(|w| w.probability).sum();
            if faults
                .random
                .iter()
                .any(|w| !(0.0..=1.0).contains(&w.probability))
                || total > 1.0 + 1e-9
            {
                return Err(format!(
                    "probabilities for {:?} must each be in [0, 1] and add up to at most 1",
                    faults.endpoint
                ));
            }
        }
        Ok(())
    }
}

/// What the injector decided for one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// What to do.
    pub action: Action,
    /// Latency to add first.
    pub latency: Duration,
    /// How long a stream's events are spread over.
    pub stream: Duration,
    /// How long a stall lasts.
    pub stall: Duration,
    /// For streaming T2A with an unknown voice: chunks before the error.
    pub voice_error_after_chunks: Option<u32>,
    /// `retry-after-ms` to send with an injected error.
    pub retry_after_ms: Option<u64>,
}

/// The running state of a scenario: sequence positions and the seeded generator.
pub(crate) struct Injector {
    scenario: Scenario,
    state: Mutex<InjectorState>,
}

struct InjectorState {
    positions: Vec<usize>,
    rng: fastrand::Rng,
}

impl Injector {
    pub(crate) fn new(scenario: Scenario) -> Injector {
        let state = InjectorState {
            positions: vec![0; scenario.endpoints.len()],
            rng: fastrand::Rng::with_seed(scenario.seed),
        };
        Injector {
            scenario,
            state: Mutex::new(state),
        }
    }

    /// Back to the start: sequences from their first action, the generator from its seed.
    pub(crate) fn reset(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.positions.iter_mut().for_each(|p| *p = 0);
        state.rng = fastrand::Rng::with_seed(self.scenario.seed);
    }

    pub(crate) fn decide(&self, endpoint: Endpoint) -> Decision {
        let none = Decision {
            action: Action::Ok,
            latency: Duration::ZERO,
            stream: Duration::ZERO,
            stall: Duration::ZERO,
            voice_error_after_chunks: None,
            retry_after_ms: None,
        };
        let Some(index) = self
            .scenario
            .endpoints
            .iter()
            .position(|f| f.matches(endpoint))
        else {
            return none;
        };
        let faults = &self.scenario.endpoints[index];
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let InjectorState { positions, rng } = &mut *state;
        let position = &mut positions[index];
        let from_sequence = if *position < faults.sequence.len() {
            let action = faults.sequence[*position];
            *position += 1;
            if faults.repeat && *position == faults.sequence.len() {
                *position = 0;
            }
            Some(action)
        } else {
            None
        };
        let action = from_sequence.unwrap_or_else(|| {
            let draw = rng.f64();
            let mut cumulative = 0.0;
            faults
                .random
                .iter()
                .find(|w| {
                    cumulative += w.probability;
                    draw < cumulative
                })
                .map_or(Action::Ok, |w| w.action)
        });
        let latency = faults.latency.sample(rng);
        let stream = faults.stream.sample(rng);
        Decision {
            action,
            latency,
            stream,
            stall: Duration::from_millis(faults.stall_ms),
            voice_error_after_chunks: faults.voice_error_after_chunks,
            retry_after_ms: faults.retry_after_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_normal_latency_has_its_median_and_its_tail() {
        let latency = Latency::log_normal(Duration::from_secs(3), Duration::from_secs(30));
        let mut rng = fastrand::Rng::with_seed(3);
        let mut draws: Vec<f64> = (0..20_000)
            .map(|_| latency.sample(&mut rng).as_secs_f64())
            .collect();
        draws.sort_by(f64::total_cmp);
        let median = draws[draws.len() / 2];
        let p99 = draws[draws.len() * 99 / 100];
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((median - 3.0).abs() < 0.15, "median {median}");
        assert!((p99 - 30.0).abs() < 4.0, "p99 {p99}");
        let expected = latency.mean().as_secs_f64();
        assert!(
            (mean - expected).abs() / expected < 0.1,
            "{mean} vs {expected}"
        );
        let fixed = Latency::fixed(Duration::from_millis(250));
        assert_eq!(fixed.sample(&mut rng), Duration::from_millis(250));
        assert_eq!(fixed.mean(), Duration::from_millis(250));
    }
}
