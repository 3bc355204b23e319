//! What `apply` and `destroy` show while they work: a live line per host (indicatif) on a
//! terminal, plain timestamped log lines otherwise (CI, pipes), then a summary table.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The phases of `apply`, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Connect,
    Facts,
    Validate,
    Plan,
    Stage,
    Configure,
    Start,
    Health,
    ControlPlane,
    Register,
    Verify,
    Stop,
    Remove,
    Wipe,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Connect => "connect",
            Step::Facts => "gather facts",
            Step::Validate => "validate host",
            Step::Plan => "plan",
            Step::Stage => "stage",
            Step::Configure => "configure",
            Step::Start => "start",
            Step::Health => "wait for cluster health",
            Step::ControlPlane => "install the control plane",
            Step::Register => "register with the control plane",
            Step::Verify => "verify S3",
            Step::Stop => "stop",
            Step::Remove => "remove",
            Step::Wipe => "delete data",
        })
    }
}

enum Mode {
    Bars {
        multi: MultiProgress,
        bars: HashMap<String, ProgressBar>,
    },
    Lines,
}

/// The progress display of one run.
pub struct Progress {
    mode: Mode,
    started: Instant,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress").finish_non_exhaustive()
    }
}

impl Progress {
    /// Bars when stderr is a terminal, lines otherwise.
    pub fn new(hosts: &[&str]) -> Progress {
        Self::with_bars(hosts, std::io::stderr().is_terminal())
    }

    /// Plain lines, whatever the output is.
    pub fn lines() -> Progress {
        Progress {
            mode: Mode::Lines,
            started: Instant::now(),
        }
    }

    fn with_bars(hosts: &[&str], bars: bool) -> Progress {
        if !bars {
            return Self::lines();
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let width = hosts.iter().map(|h| h.len()).max().unwrap_or(4);
        let style = ProgressStyle::with_template(&format!(
            "{{spinner}} {{prefix:{width}}}  {{msg}} [{{elapsed}}]"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let mut map = HashMap::new();
        for h in hosts {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(style.clone());
            bar.set_prefix(h.to_string());
            bar.set_message("waiting");
            bar.enable_steady_tick(Duration::from_millis(120));
            map.insert(h.to_string(), bar);
        }
        Progress {
            mode: Mode::Bars { multi, bars: map },
            started: Instant::now(),
        }
    }

    fn stamp(&self) -> String {
        format!("[{:>6.1}s]", self.started.elapsed().as_secs_f64())
    }

    /// `host` begins `step`.
    pub fn step(&self, host: &str, step: Step) {
        match &self.mode {
            Mode::Bars { bars, .. } => {
                if let Some(b) = bars.get(host) {
                    b.set_message(format!("{step}…"));
                }
            }
            Mode::Lines => println!("{} {host}: {step}", self.stamp()),
        }
    }

    /// Something `host` did (an action taken).
    pub fn did(&self, host: &str, what: &str) {
        match &self.mode {
            Mode::Bars { multi, .. } => {
                let _ = multi.println(format!("  {host}: {what}"));
            }
            Mode::Lines => println!("{} {host}: {what}", self.stamp()),
        }
    }

    /// `host` is finished (`ok` or failed) with a final word.
    pub fn finish(&self, host: &str, word: &str) {
        match &self.mode {
            Mode::Bars { bars, .. } => {
                if let Some(b) = bars.get(host) {
                    b.finish_with_message(word.to_string());
                }
            }
            Mode::Lines => println!("{} {host}: {word}", self.stamp()),
        }
    }

    /// A cluster-wide message.
    pub fn note(&self, what: &str) {
        match &self.mode {
            Mode::Bars { multi, .. } => {
                let _ = multi.println(what);
            }
            Mode::Lines => println!("{} {what}", self.stamp()),
        }
    }

    /// Stops every live line (before printing the plan, a prompt or the summary).
    pub fn suspend_all(&self) {
        if let Mode::Bars { bars, .. } = &self.mode {
            for b in bars.values() {
                if !b.is_finished() {
                    b.disable_steady_tick();
                }
            }
        }
    }

    /// Clears every live line for good.
    pub fn clear(&self) {
        if let Mode::Bars { multi, bars } = &self.mode {
            for b in bars.values() {
                b.finish_and_clear();
            }
            let _ = multi.clear();
        }
    }
}

/// A table with a header row, columns padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        let last = cells.len().saturating_sub(1);
        for (i, c) in cells.iter().enumerate() {
            if i == last {
                out.push_str(c);
            } else {
                let pad = widths[i] - c.chars().count();
                let _ = write!(out, "{c}{}  ", " ".repeat(pad));
            }
        }
        out.push('\n');
    };
    let head: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    line(&mut out, &head);
    for r in rows {
        line(&mut out, r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_columns_to_the_widest_cell() {
        let t = table(
            &["HOST", "RESULT"],
            &[
                vec!["node-one".into(), "ok".into()],
                vec!["n2".into(), "failed at start".into()],
            ],
        );
        assert_eq!(
            t,
            "HOST      RESULT\nnode-one  ok\nn2        failed at start\n"
        );
    }
}
