"""release: changelogs, version bumps, API docs, packages and publishing to an index, then verifying what it serves.
Reads the git history, the manifests and the gate reports; writes CHANGELOG drafts, dist/<name>/, docs/api/,
reports/publishing/ and reports/release-notes, and (publish only) uploads and release tags."""
