//! `<target>.hgrm` (corrected latency) and `<target>.service_time.hgrm` (service time): a
//! target's whole-run histogram as HdrHistogram's Java `outputPercentileDistribution(out, 5,
//! 1000.0)` prints it, in milliseconds: the percentile "spectrum" that HdrHistogram's
//! plotFiles page and wrk2's `--latency` output show.
//!
//! ```text
//!        Value     Percentile TotalCount 1/(1-Percentile)
//!
//!        1.000 0.000000000000          1           1.00
//!       10.007 0.100000000000         10           1.11
//!       …
//!      100.031 1.000000000000        100
//! #[Mean    =       50.504, StdDeviation   =       28.866]
//! #[Max     =      100.031, Total count    =          100]
//! #[Buckets =           22, SubBuckets     =         2048]
//! ```
//!
//! Rows are Java's percentile iteration: 5 ticks per half distance to 100% (0%, 10%, … 50%,
//! 55%, … 75%, 77.5%, …), each row the highest value equivalent to the first bucket at or past
//! its percentile, one more row at 100% without the last column. The iteration is Java's own
//! arithmetic (in percent, as Java computes it), not the `hdrhistogram` crate's
//! `iter_quantiles`, which steps in fractions and so rounds some ticks differently; and numbers
//! are rounded half up from their shortest decimal form, as Java's `Formatter` rounds them. A
//! row's value is what `value_at_quantile` gives for its percentile, so the summary's
//! p50/p90/max are rows of the file.

use std::path::Path;

use hdrhistogram::Histogram;

/// Ticks per half distance to 100% (Java's default, and wrk2's).
pub(crate) const TICKS_PER_HALF_DISTANCE: u32 = 5;
/// Microseconds per millisecond: Java's `outputValueUnitScalingRatio`.
pub(crate) const VALUE_UNIT_RATIO: f64 = 1000.0;
/// Digits after the point of values (the histograms' significant digits, as Java uses them).
const VALUE_DECIMALS: usize = super::hlog::SIGFIG as usize;

/// `<target>.hgrm`: corrected latency.
pub(crate) fn latency_file(target: &str) -> String {
    format!("{target}.hgrm")
}

/// `<target>.service_time.hgrm`: service time.
pub(crate) fn service_time_file(target: &str) -> String {
    format!("{target}.service_time.hgrm")
}

/// Writes both files of `target` into the result set `dir`, atomically; an error names the
/// file.
pub(crate) fn write(
    dir: &Path,
    target: &str,
    latency: &Histogram<u64>,
    service_time: &Histogram<u64>,
) -> std::io::Result<()> {
    for (name, histogram) in [
        (latency_file(target), latency),
        (service_time_file(target), service_time),
    ] {
        let path = dir.join(name);
        super::io::write_atomic(&path, render(histogram).as_bytes()).map_err(|error| {
            std::io::Error::new(error.kind(), format!("writing {}: {error}", path.display()))
        })?;
    }
    Ok(())
}

/// Writes both files of every target of `run` again, from its interval logs (`coldfront
/// report`: the same text the run wrote, which the run made from the same counts).
pub(crate) fn write_set(run: &super::ResultSet) -> std::io::Result<()> {
    for target in &run.targets {
        let latency = super::hlog::merged(&target.latency);
        let service_time = super::hlog::merged(&target.service_time);
        write(&run.dir, &target.name, &latency, &service_time)?;
    }
    Ok(())
}

/// One row of the distribution: a bucket's highest equivalent value, the percentile level
/// iterated to, and the count up to that bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Row {
    value: u64,
    percentile: f64,
    total_count: u64,
}

/// The text of `histogram` (microseconds) as Java's `outputPercentileDistribution` prints it
/// with 5 ticks per half distance and values in milliseconds.
pub(crate) fn render(histogram: &Histogram<u64>) -> String {
    let mut out = format!(
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let value = |us: u64| java_fixed(us as f64 / VALUE_UNIT_RATIO, VALUE_DECIMALS);
    for row in rows(histogram, TICKS_PER_HALF_DISTANCE) {
        let quantile = row.percentile / 100.0;
        out.push_str(&format!(
            "{:>12} {:>2} {:>10}",
            value(row.value),
            java_fixed(quantile, 12),
            row.total_count
        ));
        if row.percentile != 100.0 {
            out.push_str(&format!(" {:>14}", java_fixed(1.0 / (1.0 - quantile), 2)));
        }
        out.push('\n');
    }
    let (mean, std_deviation) = mean_and_std_deviation(histogram);
    let scaled = |us: f64| java_fixed(us / VALUE_UNIT_RATIO, VALUE_DECIMALS);
    let max = if histogram.is_empty() {
        0
    } else {
        histogram.max()
    };
    out.push_str(&format!(
        "#[Mean    = {:>12}, StdDeviation   = {:>12}]\n",
        scaled(mean),
        scaled(std_deviation)
    ));
    out.push_str(&format!(
        "#[Max     = {:>12}, Total count    = {:>12}]\n",
        value(max),
        histogram.len()
    ));
    // Java's counts array is (buckets + 1) × half the sub-buckets long.
    let buckets = usize::from(histogram.buckets());
    let sub_buckets = 2 * histogram.distinct_values() / (buckets + 1);
    out.push_str(&format!(
        "#[Buckets = {buckets:>12}, SubBuckets     = {sub_buckets:>12}]\n"
    ));
    out
}

/// Java's `PercentileIterator`: from 0%, each recorded bucket yields a row for every level its
/// cumulative percentile reaches, the level then stepping by `100 / ticks` where the ticks
/// double every half distance to 100%; the bucket that completes the count yields one row and
/// then the last one, at 100%.
fn rows(histogram: &Histogram<u64>, ticks_per_half_distance: u32) -> Vec<Row> {
    let total = histogram.len();
    let mut rows = Vec::new();
    let mut level = 0.0_f64;
    let mut total_count = 0_u64;
    for bucket in histogram.iter_recorded() {
        total_count += bucket.count_at_value();
        let value = bucket.value_iterated_to();
        while (100.0 * total_count as f64) / total as f64 >= level {
            rows.push(Row {
                value,
                percentile: level,
                total_count,
            });
            level = next_level(level, ticks_per_half_distance);
            if total_count >= total {
                rows.push(Row {
                    value,
                    percentile: 100.0,
                    total_count,
                });
                return rows;
            }
        }
    }
    rows
}

/// Java's `PercentileIterator.incrementIterationLevel`, operation for operation.
fn next_level(level: f64, ticks_per_half_distance: u32) -> f64 {
    let halvings = ((100.0 / (100.0 - level)).ln() / 2f64.ln()) as i64;
    let ticks = i64::from(ticks_per_half_distance) * 2f64.powi((halvings + 1) as i32) as i64;
    level + 100.0 / ticks as f64
}

/// Java's `getMean` and `getStdDeviation`: over each recorded bucket's median equivalent
/// value, summed in bucket order and divided once at the end.
fn mean_and_std_deviation(histogram: &Histogram<u64>) -> (f64, f64) {
    let total = histogram.len();
    if total == 0 {
        return (0.0, 0.0);
    }
    let median = |value: u64| histogram.median_equivalent(value) as f64;
    let sum: f64 = histogram
        .iter_recorded()
        .map(|b| median(b.value_iterated_to()) * b.count_at_value() as f64)
        .fold(0.0, |sum, term| sum + term);
    let mean = sum / total as f64;
    let squares: f64 = histogram
        .iter_recorded()
        .map(|b| {
            let deviation = median(b.value_iterated_to()) - mean;
            (deviation * deviation) * b.count_at_value() as f64
        })
        .fold(0.0, |sum, term| sum + term);
    (mean, (squares / total as f64).sqrt())
}

/// `x` with `decimals` digits after the point, as Java's `%.Nf` writes it: the shortest decimal
/// form of the double, rounded half up (Rust's `{:.N}` rounds the exact binary value instead,
/// which differs on ties such as a mean of exactly 1.0625).
fn java_fixed(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".into()
        } else if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    // x = D × 10^(exponent − (n − 1)), D the n shortest significant digits.
    let scientific = format!("{:e}", x.abs());
    let (mantissa, exponent) = scientific.split_once('e').expect("{:e} has an exponent");
    let exponent: i32 = exponent.parse().expect("an integer exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significand: u128 = digits.parse().expect("decimal digits");
    let shift = exponent - (digits.len() as i32 - 1) + decimals as i32;
    let scaled = if shift >= 0 {
        significand * 10_u128.pow(shift as u32)
    } else if -shift > 38 {
        0
    } else {
        let unit = 10_u128.pow((-shift) as u32);
        significand / unit + u128::from(significand % unit * 2 >= unit)
    };
    let text = format!("{scaled:0>width$}", width = decimals + 1);
    let (whole, fraction) = text.split_at(text.len() - decimals);
    let sign = if x.is_sign_negative() && scaled > 0 {
        "-"
    } else {
        ""
    };
    if decimals == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resultset::hlog::new_histogram;

    /// What HdrHistogram 2.1.11 (Java) prints for `new Histogram(1, 3_600_000_000L, 3)` with
    /// 1, 2, … 100 ms recorded (in µs), `outputPercentileDistribution(System.out, 5, 1000.0)`.
    const JAVA_ONE_TO_HUNDRED: &str = "       Value     Percentile TotalCount 1/(1-Percentile)

       1.000 0.000000000000          1           1.00
      10.007 0.100000000000         10           1.11
      20.015 0.200000000000         20           1.25
      30.015 0.300000000000         30           1.43
      40.031 0.400000000000         40           1.67
      50.015 0.500000000000         50           2.00
      55.007 0.550000000000         55           2.22
      60.031 0.600000000000         60           2.50
      65.023 0.650000000000         65           2.86
      70.015 0.700000000000         70           3.33
      75.007 0.750000000000         75           4.00
      78.015 0.775000000000         78           4.44
      80.063 0.800000000000         80           5.00
      83.007 0.825000000000         83           5.71
      85.055 0.850000000000         85           6.67
      88.063 0.875000000000         88           8.00
      89.023 0.887500000000         89           8.89
      90.047 0.900000000000         90          10.00
      92.031 0.912500000000         92          11.43
      93.055 0.925000000000         93          13.33
      94.015 0.937500000000         94          16.00
      95.039 0.943750000000         95          17.78
      95.039 0.950000000000         95          20.00
      96.063 0.956250000000         96          22.86
      97.023 0.962500000000         97          26.67
      97.023 0.968750000000         97          32.00
      98.047 0.971875000000         98          35.56
      98.047 0.975000000000         98          40.00
      98.047 0.978125000000         98          45.71
      99.007 0.981250000000         99          53.33
      99.007 0.984375000000         99          64.00
      99.007 0.985937500000         99          71.11
      99.007 0.987500000000         99          80.00
      99.007 0.989062500000         99          91.43
     100.031 0.990625000000        100         106.67
     100.031 1.000000000000        100
#[Mean    =       50.504, StdDeviation   =       28.866]
#[Max     =      100.031, Total count    =          100]
#[Buckets =           22, SubBuckets     =         2048]
";

    fn histogram(values_us: impl IntoIterator<Item = (u64, u64)>) -> Histogram<u64> {
        let mut histogram = new_histogram();
        for (value, count) in values_us {
            histogram.record_n(value, count).unwrap();
        }
        histogram
    }

    #[test]
    fn prints_what_java_prints_line_by_line() {
        let ours = render(&histogram((1..=100).map(|ms| (ms * 1000, 1))));
        let java: Vec<&str> = JAVA_ONE_TO_HUNDRED.lines().collect();
        let lines: Vec<&str> = ours.lines().collect();
        for (number, (ours, java)) in lines.iter().zip(&java).enumerate() {
            assert_eq!(ours, java, "line {}", number + 1);
        }
        assert_eq!(lines.len(), java.len());
        assert!(ours.ends_with('\n'));
    }

    #[test]
    fn a_few_values_repeat_rows_and_end_at_100_percent() {
        let text = render(&histogram([(1000, 1), (2000, 1), (3000, 1)]));
        let expected = "       Value     Percentile TotalCount 1/(1-Percentile)

       1.000 0.000000000000          1           1.00
       1.000 0.100000000000          1           1.11
       1.000 0.200000000000          1           1.25
       1.000 0.300000000000          1           1.43
       2.000 0.400000000000          2           1.67
       2.000 0.500000000000          2           2.00
       2.000 0.550000000000          2           2.22
       2.000 0.600000000000          2           2.50
       2.000 0.650000000000          2           2.86
       3.001 0.700000000000          3           3.33
       3.001 1.000000000000          3
#[Mean    =        2.000, StdDeviation   =        0.817]
#[Max     =        3.001, Total count    =            3]
#[Buckets =           22, SubBuckets     =         2048]
";
        assert_eq!(text, expected);
    }

    #[test]
    fn an_empty_histogram_has_the_header_and_the_footer_only() {
        let expected = "       Value     Percentile TotalCount 1/(1-Percentile)

#[Mean    =        0.000, StdDeviation   =        0.000]
#[Max     =        0.000, Total count    =            0]
#[Buckets =           22, SubBuckets     =         2048]
";
        assert_eq!(render(&new_histogram()), expected);
    }

    #[test]
    fn rows_hold_the_values_at_their_quantiles() {
        // A long tail: 10,000 values from 0.1 ms to about 4 s.
        let h = histogram((1..=10_000_u64).map(|i| (100 + i * i / 25, 1)));
        let rows = rows(&h, TICKS_PER_HALF_DISTANCE);
        for row in &rows {
            let quantile = row.percentile / 100.0;
            assert_eq!(row.value, h.value_at_quantile(quantile), "at {quantile}");
        }
        let at = |percentile: f64| rows.iter().find(|r| r.percentile == percentile).unwrap();
        assert_eq!(at(50.0).value, h.value_at_quantile(0.5));
        assert_eq!(at(90.0).value, h.value_at_quantile(0.9));
        assert_eq!(at(100.0).value, h.max());
        assert_eq!(at(100.0).total_count, 10_000);
    }

    #[test]
    fn ticks_halve_with_each_half_distance() {
        let mut levels = vec![0.0];
        while levels.len() < 21 {
            levels.push(next_level(*levels.last().unwrap(), 5));
        }
        assert_eq!(
            levels,
            [
                0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0, 77.5, 80.0, 82.5,
                85.0, 87.5, 88.75, 90.0, 91.25, 92.5, 93.75
            ]
        );
    }

    #[test]
    fn numbers_round_half_up_from_their_shortest_form_as_java_does() {
        assert_eq!(java_fixed(1.0625, 3), "1.063");
        assert_eq!(java_fixed(0.15, 1), "0.2");
        assert_eq!(java_fixed(2.0, 3), "2.000");
        assert_eq!(java_fixed(0.0, 12), "0.000000000000");
        assert_eq!(java_fixed(0.30000000000000004, 12), "0.300000000000");
        assert_eq!(java_fixed(0.9999, 3), "1.000");
        assert_eq!(java_fixed(3_600_000.0, 3), "3600000.000");
        assert_eq!(java_fixed(1.1111111111111112, 2), "1.11");
        assert_eq!(java_fixed(0.0004, 3), "0.000");
        assert_eq!(java_fixed(1e-30, 3), "0.000");
        assert_eq!(java_fixed(12.5, 0), "13");
    }

    #[test]
    fn file_names_sit_next_to_the_interval_log() {
        assert_eq!(latency_file("serverless"), "serverless.hgrm");
        assert_eq!(
            service_time_file("serverless"),
            "serverless.service_time.hgrm"
        );
    }
}
