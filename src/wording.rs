//! Reading a landlord's dialog folder (`dialogs_dir`) from disk. The core builds and validates
//! the wording from the files read here (`Dialogs::with_files`), so it does no I/O itself.

use std::path::{Path, PathBuf};

use crate::core::dialog::{DialogError, Dialogs};

/// The shipped dialogs, with any files in `dir` (`<dir>/<locale>/<file>.toml`) replacing
/// the shipped file of the same name or adding a locale.
pub fn load(dir: Option<&Path>) -> Result<Dialogs, DialogError> {
    match dir {
        Some(dir) => Dialogs::with_files(read_folder(dir)?),
        None => Dialogs::shipped(),
    }
}

/// Every `<dir>/<locale>/*.toml`, with its text; anything else in the folder is left alone.
fn read_folder(dir: &Path) -> Result<Vec<(PathBuf, String)>, DialogError> {
    let folder_error = |e: std::io::Error| DialogError::Folder {
        path: dir.display().to_string(),
        detail: e.to_string(),
    };
    let mut files = Vec::new();
    for locale in std::fs::read_dir(dir).map_err(folder_error)? {
        let locale = locale.map_err(folder_error)?;
        if !locale.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(locale.path()).map_err(folder_error)? {
            let path = file.map_err(folder_error)?.path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(folder_error)?;
            files.push((path, text));
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED_MESSAGES: &str = include_str!("../dialogs/en-GB/messages.toml");
    const SHIPPED_COMPLAINT: &str = include_str!("../dialogs/en-GB/complaint.toml");

    fn write(dir: &Path, locale: &str, name: &str, text: &str) {
        std::fs::create_dir_all(dir.join(locale)).expect("mkdir");
        std::fs::write(dir.join(locale).join(name), text).expect("write");
    }

    #[test]
    fn a_folder_rewords_and_adds_a_locale_and_other_files_are_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let reworded = SHIPPED_MESSAGES.replace(
            "Tell me what has happened, in your own words.",
            "Dywedwch wrthym beth sydd wedi digwydd.",
        );
        write(dir.path(), "cy-GB", "messages.toml", &reworded);
        write(dir.path(), "cy-GB", "complaint.toml", SHIPPED_COMPLAINT);
        write(dir.path(), "cy-GB", "notes.txt", "not a dialog file");
        std::fs::write(dir.path().join("README"), "not a locale").expect("write");
        let dialogs = load(Some(dir.path())).expect("with Welsh");
        assert!(dialogs.locales().any(|l| l == "cy-GB"));
        assert!(
            dialogs
                .locale("cy-GB")
                .text("greeting")
                .text
                .contains("Dywedwch")
        );
    }

    #[test]
    fn a_broken_file_is_named_by_its_path_and_a_missing_folder_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "en-GB",
            "messages.toml",
            "[greeting]\ntext = \"Hello\n",
        );
        let err = load(Some(dir.path())).expect_err("broken").to_string();
        let path = dir.path().join("en-GB").join("messages.toml");
        assert!(
            err.contains(&path.display().to_string()) && err.contains("line 2"),
            "{err}"
        );

        let missing = dir.path().join("nowhere");
        let err = load(Some(&missing)).expect_err("no folder").to_string();
        assert!(
            err.starts_with("cannot read the dialogs folder") && err.contains("nowhere"),
            "{err}"
        );
    }

    #[test]
    fn without_a_folder_the_shipped_dialogs_load() {
        assert!(load(None).expect("shipped").locales().any(|l| l == "en-GB"));
    }
}
