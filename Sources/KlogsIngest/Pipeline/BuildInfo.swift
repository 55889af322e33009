// The build's git commit. This committed copy says "unknown", so that a plain `swift build` works anywhere;
// `make release`, `make static` and `make deb` write the real short commit here for the build and put this
// copy back afterwards (see packaging/build-info.sh).
enum BuildInfo {
    static let commit = "unknown"
}
