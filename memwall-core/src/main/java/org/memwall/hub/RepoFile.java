package org.memwall.hub;

/** A file of a repository at a commit: its path, size, and SHA-256 when the Hub stores it in LFS (else null). */
public record RepoFile(String path, long size, String sha256) {
}
