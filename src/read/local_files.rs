//! Which local files `S3()` may read (`file://` URIs and paths without a
//! scheme, in queries, INSERTs and job bodies): only under the roots the
//! operator allowed (`--local-files`), never inside the warehouse (its
//! catalog holds every user's password hash), and only for users with
//! `ADMIN_PRIV` (as Doris's `local()` table function). A path is resolved
//! (`..` refused, links followed) before it is checked, and a refused path
//! is answered with the allowed roots only: nothing about the file.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// The local files `S3()` may read.
#[derive(Debug, Clone)]
pub struct LocalFiles {
    /// `None`: anywhere (an embedding program that decides for itself);
    /// otherwise the resolved roots, none at all for a server by default.
    roots: Option<Vec<PathBuf>>,
    /// Directories never read, whatever the roots (the warehouse).
    forbidden: Vec<PathBuf>,
}

impl Default for LocalFiles {
    fn default() -> Self {
        Self::anywhere()
    }
}

impl LocalFiles {
    /// Any local file the process can read, but the forbidden ones.
    pub fn anywhere() -> Self {
        Self {
            roots: None,
            forbidden: Vec::new(),
        }
    }

    /// Only files under `roots` (resolved now; each must exist).
    pub fn under(roots: &[PathBuf]) -> Result<Self> {
        let resolved = roots
            .iter()
            .map(|root| {
                std::fs::canonicalize(root).map_err(|e| Error::InvalidOption {
                    key: "local-files".into(),
                    message: format!(
                        "cannot use {} as a root for local files: {e}",
                        root.display()
                    ),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            roots: Some(resolved),
            forbidden: Vec::new(),
        })
    }

    /// These files, and never any under `dir` (when it exists).
    pub fn forbidding(mut self, dir: &Path) -> Self {
        if let Ok(dir) = std::fs::canonicalize(dir) {
            self.forbidden.push(dir);
        }
        self
    }

    /// Whether the resolved path `real` may be read.
    pub fn allows(&self, real: &Path) -> bool {
        let allowed = match &self.roots {
            None => true,
            Some(roots) => roots.iter().any(|root| real.starts_with(root)),
        };
        allowed && !self.forbidden.iter().any(|dir| real.starts_with(dir))
    }

    /// Checks that `path` (absolute, from `uri`) may be read, resolving it
    /// first: `..` is refused, links are followed as far as the path
    /// exists.
    pub fn check(&self, uri: &str, path: &Path) -> Result<()> {
        if path.components().any(|c| c == Component::ParentDir) {
            return Err(self.refused(uri));
        }
        if self.allows(&resolve(path)) {
            Ok(())
        } else {
            Err(self.refused(uri))
        }
    }

    /// The one sentence a refused path gets.
    pub fn refused(&self, uri: &str) -> Error {
        let roots = match &self.roots {
            Some(roots) if !roots.is_empty() => format!(
                "local files are read only under {}",
                roots
                    .iter()
                    .map(|r| r.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(_) => "this server reads no local files".to_string(),
            None => "local files are read anywhere but inside the warehouse".to_string(),
        };
        Error::LocalFileRefused(format!(
            "'{uri}' is not readable here: {roots} (the operator sets them with --local-files DIR[,DIR...]); the warehouse's own files are never read through S3()"
        ))
    }
}

/// `path` with its links resolved as far as it exists, the rest appended.
fn resolve(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(&existing) {
            return rest.iter().rev().fold(real, |p, part| p.join(part));
        }
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_under_the_roots_and_outside_the_warehouse_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let warehouse = data.join("wh");
        std::fs::create_dir_all(&warehouse).unwrap();
        std::fs::write(data.join("a.csv"), "1\n").unwrap();
        std::fs::write(dir.path().join("secret"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), data.join("link.csv")).unwrap();
        let local = LocalFiles::under(std::slice::from_ref(&data))
            .unwrap()
            .forbidding(&warehouse);
        local.check("u", &data.join("a.csv")).unwrap();
        local.check("u", &data.join("not-yet/*.csv")).unwrap();
        for refused in [
            dir.path().join("secret"),
            data.join("link.csv"),
            data.join("../secret"),
            warehouse.join("_tributary/catalog.json"),
            PathBuf::from("/etc/passwd"),
        ] {
            let error = local.check("u", &refused).unwrap_err().to_string();
            assert!(error.contains("local files are read only under"), "{error}");
        }
        let none = LocalFiles::under(&[]).unwrap();
        let error = none
            .check("u", &data.join("a.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("this server reads no local files"),
            "{error}"
        );
    }
}
