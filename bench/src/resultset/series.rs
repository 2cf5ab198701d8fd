//! The per-second series (`timeseries.csv`): one row per second of load and target.
//!
//! Columns: `target,second,sent,completed,ok,errors,timeouts,throttled,cold_starts,
//! connections_open,connections_opened,instances,db_connections,p50_ms,p99_ms,
//! client_timeouts,function_timeouts,held_open,late,send_lag_p99_ms,generator_cpu,
//! connections_max,connections_min,http_4xx,http_5xx,connect_errors,io_errors`. `second`
//! counts from the start of that target's load (1 = the first second). `errors` counts every
//! outcome but ok; `timeouts` is client plus function timeouts; `held_open` is the held streams
//! (SSE, WebSocket) open at the end of the second. The generator's own columns: `late` counts
//! the requests completed that second that were sent more than 1 ms late, `send_lag_p99_ms`
//! is their send lag's p99, and `generator_cpu` the share of the generator's CPUs it kept busy
//! that second (0–1). `connections_open` is the client's connections open at the end of the
//! second; `connections_max` and `connections_min` the most and fewest open at any moment of
//! it. `http_4xx`, `http_5xx`, `connect_errors` and `io_errors` count that second's requests
//! that ended so (the outcomes `http_4xx`, `http_5xx`, `connect_error`, `io_error`), so that
//! with `throttled`, `client_timeouts` and `function_timeouts` they add up to `errors`.
//! A value that is not known for that target (no cold-start header, no database sampler, no
//! completed request that second, no held requests) is empty, not zero. Files written before
//! `held_open`, the generator's columns, or the connection range and error kinds existed
//! still read, with those values unknown (a merged result set also leaves the connection range
//! unknown: the shards' ranges do not add up to the whole's).

use std::io::Write;

/// One row of `timeseries.csv`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeriesRow {
    pub target: String,
    pub second: u64,
    pub sent: u64,
    pub completed: u64,
    pub ok: u64,
    pub errors: u64,
    pub timeouts: u64,
    pub throttled: u64,
    pub cold_starts: Option<u64>,
    pub connections_open: u64,
    pub connections_opened: u64,
    pub instances: Option<u64>,
    pub db_connections: Option<u64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub client_timeouts: u64,
    pub function_timeouts: u64,
    /// Held streams open at the end of the second; `None` without held requests.
    pub held_open: Option<u64>,
    /// Requests completed this second that were sent more than 1 ms late.
    pub late: u64,
    /// p99 of the send lag of the requests completed this second.
    pub send_lag_p99_ms: Option<f64>,
    /// Share of the generator's CPUs busy this second (0–1); `None` in older result sets.
    pub generator_cpu: Option<f64>,
    /// Most client connections open at any moment of the second; `None` in older result sets.
    pub connections_max: Option<u64>,
    /// Fewest client connections open at any moment of the second; `None` in older result sets.
    pub connections_min: Option<u64>,
    /// Requests that ended as `http_4xx` this second; `None` in older result sets (as are the
    /// three below).
    pub http_4xx: Option<u64>,
    pub http_5xx: Option<u64>,
    pub connect_errors: Option<u64>,
    pub io_errors: Option<u64>,
}

pub(crate) const HEADER: &str = "target,second,sent,completed,ok,errors,timeouts,throttled,cold_starts,connections_open,connections_opened,instances,db_connections,p50_ms,p99_ms,client_timeouts,function_timeouts,held_open,late,send_lag_p99_ms,generator_cpu,connections_max,connections_min,http_4xx,http_5xx,connect_errors,io_errors";

/// The header before the connection range and the error kinds were added; still read.
const HEADER_WITHOUT_RANGE_AND_KINDS: &str = "target,second,sent,completed,ok,errors,timeouts,throttled,cold_starts,connections_open,connections_opened,instances,db_connections,p50_ms,p99_ms,client_timeouts,function_timeouts,held_open,late,send_lag_p99_ms,generator_cpu";

/// The header before the generator's own columns were added; still read.
const HEADER_WITHOUT_GENERATOR: &str = "target,second,sent,completed,ok,errors,timeouts,throttled,cold_starts,connections_open,connections_opened,instances,db_connections,p50_ms,p99_ms,client_timeouts,function_timeouts,held_open";

/// The header before `held_open` was added; still read.
const HEADER_WITHOUT_HELD_OPEN: &str = "target,second,sent,completed,ok,errors,timeouts,throttled,cold_starts,connections_open,connections_opened,instances,db_connections,p50_ms,p99_ms,client_timeouts,function_timeouts";

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

impl SeriesRow {
    /// The second this row covers, as `(start, length)` in seconds from the start of load.
    pub(crate) fn span_s(&self) -> (f64, f64) {
        (self.second.saturating_sub(1) as f64, 1.0)
    }

    pub(crate) fn write_csv(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            self.target,
            self.second,
            self.sent,
            self.completed,
            self.ok,
            self.errors,
            self.timeouts,
            self.throttled,
            opt(self.cold_starts),
            self.connections_open,
            self.connections_opened,
            opt(self.instances),
            opt(self.db_connections),
            opt(self.p50_ms),
            opt(self.p99_ms),
            self.client_timeouts,
            self.function_timeouts,
            opt(self.held_open),
            self.late,
            opt(self.send_lag_p99_ms),
            opt(self
                .generator_cpu
                .map(|share| (share * 1000.0).round() / 1000.0)),
            opt(self.connections_max),
            opt(self.connections_min),
            opt(self.http_4xx),
            opt(self.http_5xx),
            opt(self.connect_errors),
            opt(self.io_errors),
        )
    }
}

/// Why `timeseries.csv` text is not a coldfront series (the file is named by the caller).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("empty file")]
    Empty,
    #[error("line 1: unexpected header {0:?}")]
    Header(String),
    #[error("line {line}: {problem}")]
    Row { line: usize, problem: String },
}

/// Reads `timeseries.csv` text back into rows.
pub fn parse_csv(text: &str) -> Result<Vec<SeriesRow>, FormatError> {
    let mut lines = text.lines().enumerate();
    let columns = match lines.next() {
        Some((_, header))
            if [
                HEADER,
                HEADER_WITHOUT_RANGE_AND_KINDS,
                HEADER_WITHOUT_GENERATOR,
                HEADER_WITHOUT_HELD_OPEN,
            ]
            .contains(&header) =>
        {
            header.split(',').count()
        }
        Some((_, header)) => return Err(FormatError::Header(header.to_string())),
        None => return Err(FormatError::Empty),
    };
    lines
        .filter(|(_, line)| !line.is_empty())
        .map(|(index, line)| {
            parse_row(line, columns).map_err(|problem| FormatError::Row {
                line: index + 1,
                problem,
            })
        })
        .collect()
}

fn parse_row(line: &str, columns: usize) -> Result<SeriesRow, String> {
    let fields: Vec<&str> = line.split(',').collect();
    if fields.len() != columns {
        return Err(format!("{} fields, expected {columns}", fields.len()));
    }
    let int = |i: usize| -> Result<u64, String> {
        fields[i]
            .parse()
            .map_err(|_| format!("field {} is not a count: {:?}", i + 1, fields[i]))
    };
    let opt_int = |i: usize| -> Result<Option<u64>, String> {
        if fields[i].is_empty() {
            Ok(None)
        } else {
            int(i).map(Some)
        }
    };
    let opt_float = |i: usize| -> Result<Option<f64>, String> {
        if fields[i].is_empty() {
            return Ok(None);
        }
        fields[i]
            .parse::<f64>()
            .ok()
            .filter(|value| value.is_finite() && *value >= 0.0)
            .map(Some)
            .ok_or_else(|| format!("field {} is not a time in ms: {:?}", i + 1, fields[i]))
    };
    Ok(SeriesRow {
        target: fields[0].to_string(),
        second: int(1)?,
        sent: int(2)?,
        completed: int(3)?,
        ok: int(4)?,
        errors: int(5)?,
        timeouts: int(6)?,
        throttled: int(7)?,
        cold_starts: opt_int(8)?,
        connections_open: int(9)?,
        connections_opened: int(10)?,
        instances: opt_int(11)?,
        db_connections: opt_int(12)?,
        p50_ms: opt_float(13)?,
        p99_ms: opt_float(14)?,
        client_timeouts: int(15)?,
        function_timeouts: int(16)?,
        held_open: if columns > 17 { opt_int(17)? } else { None },
        late: if columns > 18 { int(18)? } else { 0 },
        send_lag_p99_ms: if columns > 19 { opt_float(19)? } else { None },
        generator_cpu: if columns > 20 { opt_float(20)? } else { None },
        connections_max: if columns > 21 { opt_int(21)? } else { None },
        connections_min: if columns > 22 { opt_int(22)? } else { None },
        http_4xx: if columns > 23 { opt_int(23)? } else { None },
        http_5xx: if columns > 24 { opt_int(24)? } else { None },
        connect_errors: if columns > 25 { opt_int(25)? } else { None },
        io_errors: if columns > 26 { opt_int(26)? } else { None },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_with_empty_unknowns() {
        let rows = vec![
            SeriesRow {
                target: "a".into(),
                second: 1,
                sent: 10,
                completed: 9,
                ok: 8,
                errors: 1,
                p50_ms: Some(1.5),
                p99_ms: Some(2.25),
                ..Default::default()
            },
            SeriesRow {
                target: "a".into(),
                second: 2,
                cold_starts: Some(3),
                db_connections: Some(0),
                ..Default::default()
            },
        ];
        let mut text = format!("{HEADER}\n").into_bytes();
        for row in &rows {
            row.write_csv(&mut text).unwrap();
        }
        let text = String::from_utf8(text).unwrap();
        assert!(text
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("a,1,10,9,8,1,0,0,,0,0,,,1.5,2.25,"));
        assert_eq!(parse_csv(&text).unwrap(), rows);
    }

    #[test]
    fn held_open_is_the_last_column_and_old_files_still_read() {
        let row = SeriesRow {
            target: "a".into(),
            second: 1,
            held_open: Some(7),
            ..Default::default()
        };
        let mut text = format!("{HEADER}\n").into_bytes();
        row.write_csv(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.lines().nth(1).unwrap().ends_with(",0,0,7,0,,,,,,,,"),
            "{text}"
        );
        assert_eq!(parse_csv(&text).unwrap(), [row]);
        let old = format!("{HEADER_WITHOUT_HELD_OPEN}\na,1,0,0,0,0,0,0,,0,0,,,,,0,0\n");
        let rows = parse_csv(&old).unwrap();
        assert_eq!(rows[0].held_open, None);
        assert_eq!(rows[0].target, "a");
        assert!(parse_csv(&format!("{HEADER}\na,1,0,0,0,0,0,0,,0,0,,,,,0,0\n")).is_err());
        let before_generator =
            format!("{HEADER_WITHOUT_GENERATOR}\na,1,0,0,0,0,0,0,,0,0,,,,,0,0,3\n");
        let rows = parse_csv(&before_generator).unwrap();
        assert_eq!((rows[0].held_open, rows[0].late), (Some(3), 0));
        assert_eq!(rows[0].generator_cpu, None);
    }

    #[test]
    fn the_generators_columns_round_trip() {
        let row = SeriesRow {
            target: "a".into(),
            second: 2,
            late: 12,
            send_lag_p99_ms: Some(3.5),
            generator_cpu: Some(0.875),
            ..Default::default()
        };
        let mut text = format!("{HEADER}\n").into_bytes();
        row.write_csv(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.ends_with(",12,3.5,0.875,,,,,,\n"), "{text}");
        assert_eq!(parse_csv(&text).unwrap(), [row]);
    }

    #[test]
    fn the_connection_range_and_error_kinds_are_the_last_columns_and_round_trip() {
        let row = SeriesRow {
            target: "a".into(),
            second: 3,
            completed: 20,
            errors: 10,
            connections_open: 2,
            connections_max: Some(13),
            connections_min: Some(0),
            http_4xx: Some(1),
            http_5xx: Some(2),
            connect_errors: Some(3),
            io_errors: Some(4),
            ..Default::default()
        };
        let mut text = format!("{HEADER}\n").into_bytes();
        row.write_csv(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(HEADER.ends_with(
            ",generator_cpu,connections_max,connections_min,http_4xx,http_5xx,connect_errors,\
             io_errors"
        ));
        assert!(text.ends_with(",13,0,1,2,3,4\n"), "{text}");
        assert_eq!(parse_csv(&text).unwrap(), [row]);
    }

    #[test]
    fn files_before_the_connection_range_and_error_kinds_still_read() {
        let old = format!(
            "{HEADER_WITHOUT_RANGE_AND_KINDS}\na,1,5,5,4,1,0,0,,2,2,,,1.5,2,0,0,,0,0.1,0.25\n"
        );
        let rows = parse_csv(&old).unwrap();
        assert_eq!(rows[0].connections_open, 2);
        assert_eq!(rows[0].generator_cpu, Some(0.25));
        assert_eq!(
            (rows[0].connections_max, rows[0].connections_min),
            (None, None)
        );
        assert_eq!(
            [
                rows[0].http_4xx,
                rows[0].http_5xx,
                rows[0].connect_errors,
                rows[0].io_errors
            ],
            [None; 4]
        );
        // The old row under the new header is short six fields.
        let short = format!("{HEADER}\na,1,5,5,4,1,0,0,,2,2,,,1.5,2,0,0,,0,0.1,0.25\n");
        assert!(matches!(
            parse_csv(&short),
            Err(FormatError::Row { line: 2, .. })
        ));
    }
}
