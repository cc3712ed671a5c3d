//! The format-neutral model: owners → packages → versions → files → blobs, plus tags, blob
//! references, properties, tokens and settings. Plain functions over a connection (or
//! transaction), no HTTP here.

pub mod advisories;
pub mod audit;
pub mod blob_refs;
pub mod blobs;
pub mod collections;
pub mod customers;
pub mod documents;
pub mod download_stats;
pub mod downloads;
pub mod git_sources;
pub mod owners;
pub mod package_ref;
pub mod packages;
pub mod properties;
pub mod proxy_cache;
pub mod settings;
pub mod stripe_events;
pub mod tags;
pub mod tokens;
pub mod upload_sessions;
pub mod visibility;
pub mod webhook_deliveries;

/// 1-based page of a listing.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub page: u32,
    pub per_page: u32,
}

impl Page {
    pub const MAX_PER_PAGE: u32 = 100;

    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Self {
        Page {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(20).clamp(1, Self::MAX_PER_PAGE),
        }
    }

    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }
}

/// One page of rows and the total number of rows.
#[derive(Debug, Clone)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: Page,
}

/// A value bound to a listing's filter parameters.
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
}

/// `SELECT {columns} FROM {from} {filter} ORDER BY {order}`, for `fetch_page`.
pub struct Select<'a> {
    pub columns: &'a str,
    pub from: &'a str,
    /// `WHERE …` with `$1…$n` for the params, or empty.
    pub filter: &'a str,
    pub order: &'a str,
}

/// One page of a `Select` and the total number of rows its filter selects. `params` bind the
/// filter's `$1…$n`; limit and offset come after.
pub async fn fetch_page<T>(
    conn: &mut sqlx::AnyConnection,
    select: Select<'_>,
    params: &[Param<'_>],
    page: Page,
    from_row: impl Fn(&sqlx::any::AnyRow) -> crate::error::Result<T>,
) -> crate::error::Result<Listing<T>> {
    let Select {
        columns,
        from,
        filter,
        order,
    } = select;
    let n = params.len();
    let select = format!(
        "SELECT {columns} FROM {from} {filter} ORDER BY {order} LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(select));
    for p in params {
        rows = match *p {
            Param::Text(v) => rows.bind(v),
            Param::Int(v) => rows.bind(v),
        };
    }
    let rows = rows
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&mut *conn)
        .await?;
    let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {from} {filter}"
    )));
    for p in params {
        count = match *p {
            Param::Text(v) => count.bind(v),
            Param::Int(v) => count.bind(v),
        };
    }
    let total = count.fetch_one(conn).await?;
    Ok(Listing {
        items: rows
            .iter()
            .map(from_row)
            .collect::<crate::error::Result<_>>()?,
        total,
        page,
    })
}

/// Times are epoch seconds in the database and RFC 3339 in JSON.
pub fn serialize_time<S: serde::Serializer>(epoch: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::clock::rfc3339(*epoch))
}

pub fn serialize_opt_time<S: serde::Serializer>(
    epoch: &Option<i64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match epoch {
        Some(t) => serialize_time(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn page_bounds() {
        let p = Page::new(None, None);
        assert_eq!((p.page, p.per_page, p.offset()), (1, 20, 0));
        let p = Page::new(Some(0), Some(1000));
        assert_eq!((p.page, p.per_page), (1, 100));
        assert_eq!(Page::new(Some(3), Some(10)).offset(), 20);
    }
}
