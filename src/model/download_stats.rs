//! Daily download and install counters per (day, version, customer), written in batches by
//! `downloads::DownloadCounter`, read by the statistics API and the customer freeze.
//!
//! A day is the number of whole days since the Unix epoch, in UTC; customer 0 is "not a
//! customer". Rows of deleted versions stay: totals keep counting what was downloaded.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use super::package_ref::PackageRef;
use crate::error::Result;

/// Seconds in a (UTC) day.
pub const DAY: i64 = 86_400;

/// The `customer_id` of downloads by anyone who is not a customer.
pub const NO_CUSTOMER: i64 = 0;

/// The day (days since the epoch, UTC) an epoch second falls on; before 1970 too.
pub fn day_of(epoch: i64) -> i64 {
    epoch.div_euclid(DAY)
}

/// Today, as a day number.
pub fn today() -> i64 {
    day_of(crate::clock::now())
}

/// `YYYY-MM-DD` of a day number.
pub fn date_of(day: i64) -> String {
    chrono::DateTime::from_timestamp(day * DAY, 0)
        .map(|t| t.date_naive().format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Where counts go: one row of `download_stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub day: i64,
    pub version_id: i64,
    /// `NO_CUSTOMER` when not a customer.
    pub customer_id: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub downloads: i64,
    pub installs: i64,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.downloads += other.downloads;
        self.installs += other.installs;
    }
}

/// Adds counts to a row, creating it. Does nothing when the version no longer exists.
pub async fn add(conn: &mut AnyConnection, key: Key, counts: Counts) -> Result<()> {
    sqlx::query(
        "INSERT INTO download_stats (day, package_id, version_id, customer_id, downloads, installs) \
         SELECT $1, package_id, id, $3, $4, $5 FROM versions WHERE id = $2 \
         ON CONFLICT (day, version_id, customer_id) DO UPDATE SET \
         downloads = download_stats.downloads + excluded.downloads, \
         installs = download_stats.installs + excluded.installs",
    )
    .bind(key.day)
    .bind(key.version_id)
    .bind(key.customer_id)
    .bind(counts.downloads)
    .bind(counts.installs)
    .execute(conn)
    .await?;
    Ok(())
}

/// Which rows a sum covers; `None` is "any".
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    pub package_id: Option<i64>,
    pub version_id: Option<i64>,
    pub customer_id: Option<i64>,
}

/// Sums over `[first_day, last_day]` (both optional, inclusive).
pub async fn sum(
    conn: &mut AnyConnection,
    filter: Filter,
    first_day: Option<i64>,
    last_day: Option<i64>,
) -> Result<Counts> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(downloads), 0) AS BIGINT) AS downloads, \
         CAST(COALESCE(SUM(installs), 0) AS BIGINT) AS installs FROM download_stats \
         WHERE ($1 IS NULL OR package_id = $1) AND ($2 IS NULL OR version_id = $2) \
         AND ($3 IS NULL OR customer_id = $3) AND ($4 IS NULL OR day >= $4) AND ($5 IS NULL OR day <= $5)",
    )
    .bind(filter.package_id)
    .bind(filter.version_id)
    .bind(filter.customer_id)
    .bind(first_day)
    .bind(last_day)
    .fetch_one(conn)
    .await?;
    Ok(Counts {
        downloads: row.try_get("downloads")?,
        installs: row.try_get("installs")?,
    })
}

/// Totals all time, today and over the last 30 days (today included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Periods {
    pub total: i64,
    pub today: i64,
    pub last_30_days: i64,
}

/// Downloads and installs, each over the three periods.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub downloads: Periods,
    pub installs: Periods,
}

pub async fn summary(conn: &mut AnyConnection, filter: Filter, today: i64) -> Result<Summary> {
    let total = sum(conn, filter, None, None).await?;
    let day = sum(conn, filter, Some(today), Some(today)).await?;
    let month = sum(conn, filter, Some(today - 29), Some(today)).await?;
    Ok(Summary {
        downloads: Periods {
            total: total.downloads,
            today: day.downloads,
            last_30_days: month.downloads,
        },
        installs: Periods {
            total: total.installs,
            today: day.installs,
            last_30_days: month.installs,
        },
    })
}

/// One day of a series.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DailyPoint {
    pub date: String,
    pub downloads: i64,
    pub installs: i64,
}

/// Counts per day over `[first_day, last_day]`, every day present (zero when nothing happened).
pub async fn daily(
    conn: &mut AnyConnection,
    filter: Filter,
    first_day: i64,
    last_day: i64,
) -> Result<Vec<DailyPoint>> {
    let rows = sqlx::query(
        "SELECT day, CAST(SUM(downloads) AS BIGINT) AS downloads, CAST(SUM(installs) AS BIGINT) AS installs \
         FROM download_stats \
         WHERE ($1 IS NULL OR package_id = $1) AND ($2 IS NULL OR version_id = $2) \
         AND ($3 IS NULL OR customer_id = $3) AND day >= $4 AND day <= $5 GROUP BY day",
    )
    .bind(filter.package_id)
    .bind(filter.version_id)
    .bind(filter.customer_id)
    .bind(first_day)
    .bind(last_day)
    .fetch_all(conn)
    .await?;
    let mut by_day = HashMap::new();
    for row in &rows {
        by_day.insert(
            row.try_get::<i64, _>("day")?,
            Counts {
                downloads: row.try_get("downloads")?,
                installs: row.try_get("installs")?,
            },
        );
    }
    Ok(zero_filled(first_day, last_day, &by_day))
}

/// The series from `first_day` to `last_day` (inclusive, oldest first), zero where `counts` has
/// no entry.
pub fn zero_filled(
    first_day: i64,
    last_day: i64,
    counts: &HashMap<i64, Counts>,
) -> Vec<DailyPoint> {
    (first_day..=last_day)
        .map(|day| {
            let c = counts.get(&day).copied().unwrap_or_default();
            DailyPoint {
                date: date_of(day),
                downloads: c.downloads,
                installs: c.installs,
            }
        })
        .collect()
}

/// A package with its downloads over a period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TopPackage {
    pub owner: String,
    pub format: String,
    pub name: String,
    pub downloads: i64,
}

/// The `limit` existing packages with the most downloads since `first_day`, most first.
pub async fn top_packages(
    conn: &mut AnyConnection,
    first_day: i64,
    limit: i64,
) -> Result<Vec<TopPackage>> {
    let rows = sqlx::query(
        "SELECT o.name AS owner, p.format, p.name, t.downloads FROM \
         (SELECT package_id, CAST(SUM(downloads) AS BIGINT) AS downloads FROM download_stats \
          WHERE day >= $1 GROUP BY package_id) t \
         JOIN packages p ON p.id = t.package_id JOIN owners o ON o.id = p.owner_id \
         WHERE t.downloads > 0 ORDER BY t.downloads DESC, p.lower_name, p.id LIMIT $2",
    )
    .bind(first_day)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(TopPackage {
                owner: row.try_get("owner")?,
                format: row.try_get("format")?,
                name: row.try_get("name")?,
                downloads: row.try_get("downloads")?,
            })
        })
        .collect()
}

/// Totals of one version of a package.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VersionTotals {
    pub version: String,
    pub downloads: i64,
    pub installs: i64,
}

/// Every existing version of a package with its all-time totals, newest version first.
pub async fn version_totals(
    conn: &mut AnyConnection,
    package_id: i64,
) -> Result<Vec<VersionTotals>> {
    let rows = sqlx::query(
        "SELECT v.version, CAST(COALESCE(SUM(s.downloads), 0) AS BIGINT) AS downloads, \
         CAST(COALESCE(SUM(s.installs), 0) AS BIGINT) AS installs \
         FROM versions v LEFT JOIN download_stats s ON s.version_id = v.id \
         WHERE v.package_id = $1 GROUP BY v.id, v.version ORDER BY v.id DESC",
    )
    .bind(package_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(VersionTotals {
                version: row.try_get("version")?,
                downloads: row.try_get("downloads")?,
                installs: row.try_get("installs")?,
            })
        })
        .collect()
}

/// A package found by the statistics API.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FoundPackage {
    #[serde(skip)]
    pub id: i64,
    pub owner: String,
    pub format: String,
    pub name: String,
}

/// The package `name` of `owner`, in `format` or (without one) in any format, the
/// alphabetically first format winning.
pub async fn find_package(
    conn: &mut AnyConnection,
    owner: &str,
    format: Option<&str>,
    name: &str,
) -> Result<Option<FoundPackage>> {
    let row = sqlx::query(
        "SELECT p.id, o.name AS owner, p.format, p.name FROM packages p JOIN owners o ON o.id = p.owner_id \
         WHERE o.lower_name = $1 AND p.lower_name = $2 AND ($3 IS NULL OR p.format = $3) \
         ORDER BY p.format LIMIT 1",
    )
    .bind(owner.to_lowercase())
    .bind(name.to_lowercase())
    .bind(format)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(FoundPackage {
            id: row.try_get("id")?,
            owner: row.try_get("owner")?,
            format: row.try_get("format")?,
            name: row.try_get("name")?,
        })
    })
    .transpose()
}

/// The internal id of the customer with this public id (`cust_…`).
pub async fn customer_id_by_public_id(
    conn: &mut AnyConnection,
    public_id: &str,
) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM customers WHERE public_id = $1")
            .bind(public_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Counts of the whole instance: packages, versions and customers by effective state.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Inventory {
    pub packages: i64,
    pub versions: i64,
    /// `total` and one entry per state (`active`, `suspended`, `frozen`, `expired`); a customer
    /// whose `expires_at` has passed counts as expired, as the authenticator treats it.
    pub customers: std::collections::BTreeMap<String, i64>,
}

pub async fn inventory(conn: &mut AnyConnection, now: i64) -> Result<Inventory> {
    let packages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM packages")
        .fetch_one(&mut *conn)
        .await?;
    let versions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM versions")
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query(
        "SELECT CASE WHEN expires_at IS NOT NULL AND expires_at <= $1 THEN 'expired' ELSE status END AS state, \
         COUNT(*) AS n FROM customers GROUP BY 1",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    let mut customers: std::collections::BTreeMap<String, i64> =
        ["active", "suspended", "frozen", "expired"]
            .into_iter()
            .map(|s| (s.to_string(), 0))
            .collect();
    let mut total = 0;
    for row in &rows {
        let n: i64 = row.try_get("n")?;
        *customers.entry(row.try_get("state")?).or_default() += n;
        total += n;
    }
    customers.insert("total".into(), total);
    Ok(Inventory {
        packages,
        versions,
        customers,
    })
}

/// Per package, of any format, the version this customer downloaded or installed most recently:
/// the latest day with counts, and on that day the version with the most downloads + installs
/// (then the newest version). Sorted by format, owner and package name; deleted versions are
/// left out. This is what a frozen customer keeps.
pub async fn latest_versions_for_customer(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<(PackageRef, String)>> {
    let rows = sqlx::query(
        "SELECT o.lower_name AS owner, p.format, p.name AS package, v.version, s.package_id, \
         s.day, s.downloads + s.installs AS n, s.version_id \
         FROM download_stats s \
         JOIN versions v ON v.id = s.version_id \
         JOIN packages p ON p.id = s.package_id \
         JOIN owners o ON o.id = p.owner_id \
         WHERE s.customer_id = $1 AND s.downloads + s.installs > 0",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?;
    let mut candidates = Vec::with_capacity(rows.len());
    for row in &rows {
        candidates.push(Candidate {
            package_id: row.try_get("package_id")?,
            package: PackageRef::from_row(row)?,
            version: row.try_get("version")?,
            version_id: row.try_get("version_id")?,
            day: row.try_get("day")?,
            count: row.try_get("n")?,
        });
    }
    Ok(pick_latest(candidates))
}

/// One (package, version, day) row for `pick_latest`.
#[derive(Debug, Clone)]
struct Candidate {
    package_id: i64,
    package: PackageRef,
    version: String,
    version_id: i64,
    day: i64,
    count: i64,
}

/// Per package the candidate with the latest day, then the highest count, then the highest
/// version id; sorted by format, owner and package name.
fn pick_latest(candidates: Vec<Candidate>) -> Vec<(PackageRef, String)> {
    let mut best: HashMap<i64, Candidate> = HashMap::new();
    for c in candidates {
        let rank = |c: &Candidate| (c.day, c.count, c.version_id);
        match best.get(&c.package_id) {
            Some(b) if rank(b) >= rank(&c) => {}
            _ => {
                best.insert(c.package_id, c);
            }
        }
    }
    let mut out: Vec<(PackageRef, String)> =
        best.into_values().map(|c| (c.package, c.version)).collect();
    let key = |p: &PackageRef| (p.format.clone(), p.owner.clone(), p.name.to_lowercase());
    out.sort_by(|a, b| key(&a.0).cmp(&key(&b.0)).then(a.0.name.cmp(&b.0.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_and_floor_before_1970() {
        assert_eq!(day_of(0), 0);
        assert_eq!(day_of(DAY - 1), 0);
        assert_eq!(day_of(DAY), 1);
        assert_eq!(day_of(-1), -1);
        // 2026-11-21T23:59:59Z and 2026-11-22T00:00:00Z fall on consecutive days.
        let late = crate::clock::parse_rfc3339("2026-11-21T23:59:59Z").unwrap();
        assert_eq!(day_of(late + 1), day_of(late) + 1);
        assert_eq!(date_of(day_of(late)), "2026-11-21");
        assert_eq!(date_of(day_of(late + 1)), "2026-11-22");
        // A time zone offset does not move the UTC day.
        let offset = crate::clock::parse_rfc3339("2026-11-22T01:30:00+02:00").unwrap();
        assert_eq!(date_of(day_of(offset)), "2026-11-21");
        assert_eq!(date_of(-1), "1969-12-31");
    }

    #[test]
    fn series_is_zero_filled_oldest_first() {
        let first = day_of(crate::clock::parse_rfc3339("2024-02-27T00:00:00Z").unwrap());
        let counts = HashMap::from([
            (
                first + 1,
                Counts {
                    downloads: 3,
                    installs: 1,
                },
            ),
            (
                first + 10,
                Counts {
                    downloads: 99,
                    installs: 0,
                },
            ),
        ]);
        let series = zero_filled(first, first + 3, &counts);
        let dates: Vec<&str> = series.iter().map(|p| p.date.as_str()).collect();
        // Leap year: February has a 29th.
        assert_eq!(
            dates,
            ["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"]
        );
        let downloads: Vec<i64> = series.iter().map(|p| p.downloads).collect();
        assert_eq!(downloads, [0, 3, 0, 0], "out-of-range days are left out");
        assert_eq!(series[1].installs, 1);
        assert_eq!(zero_filled(first, first, &HashMap::new()).len(), 1);
        assert!(zero_filled(first + 1, first, &HashMap::new()).is_empty());
    }

    fn package(id: i64) -> PackageRef {
        PackageRef {
            owner: "acme".into(),
            format: "generic".into(),
            name: format!("p{id}"),
        }
    }

    fn candidate(package_id: i64, version_id: i64, day: i64, count: i64) -> Candidate {
        Candidate {
            package_id,
            package: package(package_id),
            version: format!("v{version_id}"),
            version_id,
            day,
            count,
        }
    }

    #[test]
    fn latest_version_is_latest_day_then_highest_count() {
        let picked = pick_latest(vec![
            candidate(2, 20, 100, 50),
            candidate(2, 21, 101, 1),
            candidate(1, 10, 100, 1),
            candidate(1, 11, 100, 7),
            candidate(1, 12, 99, 100),
            candidate(3, 31, 5, 2),
            candidate(3, 30, 5, 2),
        ]);
        assert_eq!(
            picked,
            [
                (package(1), "v11".to_string()),
                (package(2), "v21".to_string()),
                (package(3), "v31".to_string()),
            ]
        );
        assert!(pick_latest(Vec::new()).is_empty());
    }
}
