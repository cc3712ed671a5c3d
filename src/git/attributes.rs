//! `export-ignore` from the `.gitattributes` files inside the archived commit.
//!
//! gix's attribute stack reads every `.gitattributes` along a path straight from the object
//! database (through an in-memory index of the tree, so no worktree is needed) and matches patterns
//! as git does: anchored `/tests`, globs like `*.md`, and directory-only `docs/`.

use gix::bstr::BStr;
use gix::objs::tree::{EntryKind, EntryMode};
use gix::worktree::stack::state::attributes::Source;

use super::error::GitError;

const EXPORT_IGNORE: &str = "export-ignore";

pub(super) struct ExportIgnore<'repo> {
    stack: gix::AttributeStack<'repo>,
    outcome: gix::attrs::search::Outcome,
}

impl<'repo> ExportIgnore<'repo> {
    /// Attributes as committed in `tree` (a commit's root tree). The repository's own
    /// `info/attributes` also applies, as with `git archive`; mirrors have none.
    pub fn for_tree(repo: &'repo gix::Repository, tree: &gix::oid) -> Result<Self, GitError> {
        let index = repo.index_from_tree(tree).map_err(GitError::repo)?;
        let stack = repo
            .attributes_only(&index, Source::IdMapping)
            .map_err(GitError::repo)?;
        let outcome = stack.selected_attribute_matches([EXPORT_IGNORE]);
        Ok(ExportIgnore { stack, outcome })
    }

    /// Whether `path` (relative to the repository root) is marked `export-ignore`.
    pub fn is_ignored(&mut self, path: &BStr, kind: EntryKind) -> Result<bool, GitError> {
        let mode = gix::index::entry::Mode::from(EntryMode::from(kind));
        let platform = self
            .stack
            .at_entry(path, Some(mode))
            .map_err(GitError::repo)?;
        platform.matching_attributes(&mut self.outcome);
        Ok(self
            .outcome
            .iter_selected()
            .next()
            .is_some_and(|m| m.assignment.state.is_set()))
    }
}
