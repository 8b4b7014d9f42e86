//! The wire in cells: `%http on|off|log` shows every HTTP exchange under the cell that
//! made it, `%record PATH` writes the session to a cassette, `%replay PATH [speed=N]`
//! answers it from one with nothing on the network (see `mesos::exchange`).

use crate::display::exchange::bundle;
use crate::engine::errors::Kind;
use crate::engine::{Engine, Outcome};
use crate::jupyter::{CellError, ExecuteContext};
use crate::mesos::exchange::{CellExchanges, CellToken, Wire};
use crate::mesos::replay::Player;
use serde_json::Value;
use std::fmt::Write as _;
use std::sync::Arc;

fn invalid(msg: impl Into<String>) -> CellError {
    CellError::new(Kind::InvalidCall.name(), msg)
}

/// A path as the magic's argument: quotes around it are allowed.
fn path_arg(word: &str) -> &str {
    let w = word.trim();
    w.strip_prefix('"')
        .and_then(|w| w.strip_suffix('"'))
        .or_else(|| w.strip_prefix('\'').and_then(|w| w.strip_suffix('\'')))
        .unwrap_or(w)
}

impl Engine {
    pub(crate) fn wire(&self) -> Wire {
        self.client.wire().clone()
    }

    /// Shows what the cell's exchanges were (with `%http on`) and what went wrong on the
    /// wire in the background (a replay mismatch, a cassette that could not be written).
    pub(crate) fn show_exchanges(&self, wire: &Wire, token: CellToken, ctx: &ExecuteContext) {
        let got = wire.cell_ends(token);
        for p in &got.problems {
            ctx.publisher.stream("stderr", &format!("{p}\n"));
        }
        if got.exchanges.is_empty() && got.more == 0 && got.records.is_empty() {
            return;
        }
        let count = got.exchanges.len() + got.more;
        let records = got.records.len() + got.more_records;
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let mut title = format!("HTTP: {count} exchange{}", plural(count));
        if records > 0 {
            let _ = write!(title, " and {records} stream record{}", plural(records));
        }
        title.push_str(" while this cell ran, in order (%http off hides them)");
        ctx.publisher.display(&bundle(&title, &got), None);
    }

    pub(crate) async fn wire_magic(
        &mut self,
        name: &str,
        args: &str,
        ctx: &ExecuteContext,
    ) -> Result<Option<Outcome>, CellError> {
        match name {
            "http" => self.http_magic(args, ctx),
            "record" => self.record_magic(args, ctx).await,
            _ => self.replay_magic(args, ctx),
        }
    }

    /// `%http on | off | log`, or alone to say whether it is on.
    fn http_magic(
        &mut self,
        args: &str,
        ctx: &ExecuteContext,
    ) -> Result<Option<Outcome>, CellError> {
        let wire = self.wire();
        let say = |text: &str| ctx.publisher.stream("stdout", &format!("{text}\n"));
        match args.trim() {
            "" => say(if wire.showing() {
                "%http is on: every HTTP exchange shows under the cell that made it"
            } else {
                "%http is off (%http on shows every HTTP exchange under its cell)"
            }),
            "on" => {
                wire.show(true);
                say("%http is on: every HTTP exchange of a cell shows under its outputs, with a curl line that repeats it; those made while no cell runs are in %http log");
            }
            "off" => {
                wire.show(false);
                say("%http is off");
            }
            "log" => {
                let (log, total) = wire.log();
                if log.is_empty() {
                    say(if wire.showing() {
                        "%http log: no exchange was made while no cell ran"
                    } else {
                        "%http log: nothing kept (%http on keeps the exchanges made between cells)"
                    });
                } else {
                    let title = if total as usize > log.len() {
                        format!(
                            "HTTP: the last {} of {total} exchanges made while no cell ran",
                            log.len()
                        )
                    } else {
                        format!("HTTP: {total} exchanges made while no cell ran, in order")
                    };
                    let shown = CellExchanges {
                        exchanges: log,
                        ..CellExchanges::default()
                    };
                    ctx.publisher.display(&bundle(&title, &shown), None);
                }
            }
            other => {
                return Err(invalid(format!(
                    "%http {other}: say %http on, %http off, %http log, or %http alone"
                )))
            }
        }
        Ok(None)
    }

    /// `%record PATH | off`, or alone to say whether it records.
    async fn record_magic(
        &mut self,
        args: &str,
        ctx: &ExecuteContext,
    ) -> Result<Option<Outcome>, CellError> {
        let wire = self.wire();
        let say = |text: &str| ctx.publisher.stream("stdout", &format!("{text}\n"));
        match args.trim() {
            "" => {
                match wire.recording() {
                    Some(path) => say(&format!("%record: recording to {path}")),
                    None => say("%record: not recording (%record PATH starts)"),
                }
                return Ok(None);
            }
            "off" => {
                match wire.stop_recording() {
                    Some(s) => {
                        say(&format!(
                            "Recorded {} exchanges, {} stream records and {} cells to {}",
                            s.exchanges,
                            s.records,
                            s.cells,
                            s.path.display()
                        ));
                        if let Some(p) = s.problem {
                            ctx.publisher.stream("stderr", &format!("{p}\n"));
                        }
                    }
                    None => say("%record: not recording"),
                }
                return Ok(None);
            }
            _ => {}
        }
        let path = std::path::PathBuf::from(path_arg(args));
        if wire.player().is_some() {
            return Err(invalid(
                "%record: the session is replaying a cassette (%replay off first)",
            ));
        }
        // The master is found now, so the cassette names it (and an embedded cluster
        // starts here, not in the first recorded cell).
        let master = self.master_base(ctx).await?;
        if self.session.as_ref().is_some_and(|s| s.is_active()) {
            ctx.publisher.stream(
                "stderr",
                "%record: a framework is subscribed already; its stream was opened before recording and is not in the cassette (put %record before SUBSCRIBE)\n",
            );
        }
        wire.record(&path, &master)
            .map_err(|e| invalid(format!("%record: {e}")))?;
        say(&format!(
            "Recording every HTTP exchange and stream record to {} (master {master}); %record off stops, %replay {} plays it back",
            path.display(),
            path.display()
        ));
        Ok(None)
    }

    /// `%replay PATH [speed=N] | off`, or alone to say where it is.
    fn replay_magic(
        &mut self,
        args: &str,
        ctx: &ExecuteContext,
    ) -> Result<Option<Outcome>, CellError> {
        let wire = self.wire();
        let say = |text: &str| ctx.publisher.stream("stdout", &format!("{text}\n"));
        match args.trim() {
            "" => {
                match wire.player() {
                    Some(p) => {
                        let (done, all) = p.progress();
                        say(&format!(
                            "%replay: replaying {} at speed {}: {done} of {all} cell requests answered",
                            p.path().display(),
                            p.speed()
                        ));
                    }
                    None => say("%replay: not replaying (%replay PATH starts)"),
                }
                return Ok(None);
            }
            "off" => {
                match wire.stop_replay() {
                    Some(p) => {
                        self.conn.pin(None);
                        say(&format!(
                            "%replay: stopped replaying {}; requests go to a master again",
                            p.path().display()
                        ));
                    }
                    None => say("%replay: not replaying"),
                }
                return Ok(None);
            }
            _ => {}
        }
        let mut words = args.split_whitespace();
        let path = path_arg(words.next().unwrap_or(""));
        let mut speed = 1.0;
        for word in words {
            match word.split_once('=') {
                Some(("speed", v)) => {
                    speed = v.parse().map_err(|_| {
                        invalid(format!(
                            "%replay: speed={v} is not a number (speed=10 plays ten times faster)"
                        ))
                    })?
                }
                _ => {
                    return Err(invalid(format!(
                        "%replay: '{word}' is not an option (speed=N)"
                    )))
                }
            }
        }
        if wire.recording().is_some() {
            return Err(invalid(
                "%replay: the session is recording (%record off first)",
            ));
        }
        if self.session.as_ref().is_some_and(|s| s.is_active()) {
            return Err(invalid(
                "%replay: a framework is subscribed to a live master (TEARDOWN it first)",
            ));
        }
        let player = Player::load(std::path::Path::new(path), speed)
            .map_err(|e| invalid(format!("%replay: {e}")))?;
        let master = player.master().to_string();
        let about = player.describe();
        wire.replay(Arc::new(player))
            .map_err(|e| invalid(format!("%replay: {e}")))?;
        self.conn.pin(Some(master.clone()));
        self.vars.set("master", Value::String(master));
        say(&format!(
            "Replaying {path} ({about}) at speed {speed}: every answer comes from the cassette, nothing goes to the network"
        ));
        Ok(None)
    }
}
