//! A package of any format as customer grants, collections and freezes name it, by value: it
//! outlives the package row (a grant stays when its package is deleted and synced again).

/// The owner's lower-case name, the format, and the package's stored name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageRef {
    pub owner: String,
    pub format: String,
    pub name: String,
}

impl PackageRef {
    /// Reads the `owner`, `format` and `package` columns of a row.
    pub fn from_row(row: &sqlx::any::AnyRow) -> Result<PackageRef, sqlx::Error> {
        use sqlx::Row;
        Ok(PackageRef {
            owner: row.try_get("owner")?,
            format: row.try_get("format")?,
            name: row.try_get("package")?,
        })
    }
}
