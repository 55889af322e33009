import Foundation
import Glibc
import Testing

@testable import KlogsIngest

@Suite("Pseudonym key store", .serialized)
struct KeyStoreTests {
    static let day = 20_778  // 2026-11-21

    @Test("File names are UTC dates")
    func fileNames() {
        #expect(KeyStore.fileName(for: 0) == "1970-01-01.key")
        #expect(KeyStore.fileName(for: Self.day) == "2026-11-21.key")
        #expect(KeyStore.fileName(for: 11_016) == "2000-02-29.key")
        #expect(KeyStore.parseFileName("2026-11-21.key")?.day == Self.day)
        #expect(KeyStore.parseFileName(".2026-11-21.key.tmp-0123abcd")?.isTemporary == true)
        #expect(KeyStore.parseFileName("2026-02-30.key") == nil)
        #expect(KeyStore.parseFileName("2026-11-21.key.bak") == nil)
        // Every 997th day from 1970 to 9999.
        for day in stride(from: 0, through: 2_932_896, by: 997) {
            #expect(KeyStore.parseFileName(KeyStore.fileName(for: day))?.day == day)
        }
    }

    @Test("The same day gives the same key across instances; different days differ")
    func sameDaySameKey() throws {
        let data = try TemporaryDirectory()
        defer { data.remove() }
        let first = try KeyStore(dataDirectory: data.path)
        let key = try first.key(for: Self.day)
        #expect(try first.key(for: Self.day) == key)
        let second = try KeyStore(dataDirectory: data.path)
        #expect(try second.key(for: Self.day) == key)
        #expect(try second.key(for: Self.day + 1) != key)
        #expect(key != PseudonymKey(key0: 0, key1: 0))
        #expect(try second.storedDays() == [Self.day, Self.day + 1])
        #expect(try second.existingKey(for: Self.day + 5) == nil)
        #expect(try second.storedDays() == [Self.day, Self.day + 1], "existingKey never creates")
    }

    @Test("The key file holds 32 hexadecimal digits and a newline")
    func fileFormat() throws {
        let data = try TemporaryDirectory()
        defer { data.remove() }
        let store = try KeyStore(dataDirectory: data.path)
        let key = try store.key(for: Self.day)
        let text = try String(contentsOfFile: store.directory + "/2026-11-21.key", encoding: .utf8)
        #expect(text == KeyStore.formatKey(key))
        #expect(text.count == 33)
        #expect(KeyStore.parseKey(Array(text.utf8)) == key)
        #expect(
            KeyStore.formatKey(PseudonymKey(key0: 0x0102_0304_0506_0708, key1: 0xff))
                == "0102030405060708" + "00000000000000ff\n")
    }

    @Test("The directory is 0700 and key files 0600, whatever the umask")
    func permissionsAreStrict() throws {
        let data = try TemporaryDirectory()
        defer { data.remove() }
        let store = try withUmask(0) { try KeyStore(dataDirectory: data.path) }
        _ = try withUmask(0) { try store.key(for: Self.day) }
        #expect(store.directory == data.path + "/_klogs/keys")
        #expect(permissions(store.directory) == 0o700)
        #expect(permissions(store.directory + "/2026-11-21.key") == 0o600)
        #expect(try directoryListing(store.directory) == ["2026-11-21.key"], "no temporary file left")
    }

    @Test("A key directory that group or others may read is refused, with the chmod that fixes it")
    func worldReadableDirectoryRefused() throws {
        let data = try TemporaryDirectory()
        defer { data.remove() }
        let directory = data.path + "/_klogs/keys"
        try FileSystem.createDirectory(atPath: directory, permissions: 0o755)
        #expect(chmod(directory, 0o755) == 0)
        let error = try #require(throws: IngestError.self) { try KeyStore(directory: directory) }
        #expect(error.kind == .insecurePermissions)
        #expect(error.description.contains("mode 0755"), "\(error)")
        #expect(error.description.contains("chmod 700 \(directory)"), "\(error)")
    }

    @Test("A key file that group or others may read is refused")
    func worldReadableFileRefused() throws {
        let data = try TemporaryDirectory()
        defer { data.remove() }
        let store = try KeyStore(dataDirectory: data.path)
        _ = try store.key(for: Self.day)
        let path = store.directory + "/2026-11-21.key"
        #expect(chmod(path, 0o644) == 0)
        let fresh = try KeyStore(dataDirectory: data.path)
        let error = try #require(throws: IngestError.self) { try fresh.key(for: Self.day) }
        #expect(error.kind == .insecurePermissions)
        #expect(error.description.contains("chmod 600 \(path)"))
    }

    @Test("A key file that is a symbolic link is refused")
    func symbolicLinkRefused() throws {
        let data = try TemporaryDirectory()
        defer { data.remove() }
        let store = try KeyStore(dataDirectory: data.path)
        let elsewhere = try data.file("elsewhere.key", Array(KeyStore.formatKey(PseudonymKey(key0: 1, key1: 2)).utf8))
        #expect(chmod(elsewhere, 0o600) == 0)
        #expect(symlink(elsewhere, store.directory + "/2026-11-21.key") == 0)
        let error = try #require(throws: IngestError.self) { try store.key(for: Self.day) }
        #expect(error.kind == .insecurePermissions)
        #expect(error.description.contains("symbolic link"))
    }

    @Test("A damaged key file is an error, not silently replaced")
    func damagedKeyFile() throws {
        let data = try TemporaryDirectory()
        defer { data.remove() }
        let store = try KeyStore(dataDirectory: data.path)
        let path = store.directory + "/2026-11-21.key"
        #expect(
            FileManager.default.createFile(
                atPath: path, contents: Data("short\n".utf8),
                attributes: [.posixPermissions: 0o600]))
        let error = try #require(throws: IngestError.self) { try store.key(for: Self.day) }
        #expect(error.kind == .invalidKeyFile)
        #expect(!error.description.contains("short"), "no file content in messages")
    }

    @Test("expire removes the files of older days and returns their days")
    func expire() throws {
        let data = try TemporaryDirectory()
        defer { data.remove() }
        let store = try KeyStore(dataDirectory: data.path)
        var keys: [Int: PseudonymKey] = [:]
        for day in Self.day - 5...Self.day { keys[day] = try store.key(for: day) }
        // A temporary file left by an interrupted run also holds a key.
        let leftover = store.directory + "/.2026-11-10.key.tmp-deadbeef"
        #expect(FileManager.default.createFile(atPath: leftover, contents: Data(count: 33)))
        let removed = try store.expire(olderThan: Self.day - 2)
        #expect(removed == [Self.day - 5, Self.day - 4, Self.day - 3])
        #expect(try store.storedDays() == [Self.day - 2, Self.day - 1, Self.day])
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(try store.existingKey(for: Self.day - 5) == nil, "the cache forgets expired keys too")
        #expect(try store.key(for: Self.day - 1) == keys[Self.day - 1])
        #expect(try store.expire(olderThan: Self.day - 2).isEmpty)
    }

    @Test("isExpired and ephemeral keys")
    func expiredDays() throws {
        #expect(!KeyStore.isExpired(day: Self.day, today: Self.day, graceDays: 0))
        #expect(KeyStore.isExpired(day: Self.day - 1, today: Self.day, graceDays: 0))
        #expect(!KeyStore.isExpired(day: Self.day - 3, today: Self.day, graceDays: 3))
        #expect(KeyStore.isExpired(day: Self.day - 4, today: Self.day, graceDays: 3))
        let first = try KeyStore.ephemeralKey()
        let second = try KeyStore.ephemeralKey()
        #expect(first != second)
    }

    @Test("Racing creators agree on one key per day")
    func racingCreators() async throws {
        let data = try TemporaryDirectory()
        defer { data.remove() }
        for round in 0..<20 {
            let day = Self.day + round
            // Separate instances, so nothing is shared but the directory.
            let stores = try (0..<4).map { _ in try KeyStore(dataDirectory: data.path) }
            let keys = try await withThrowingTaskGroup(of: PseudonymKey.self) { group in
                for store in stores {
                    group.addTask { try store.key(for: day) }
                }
                return try await group.reduce(into: Set<PseudonymKey>()) { $0.insert($1) }
            }
            #expect(keys.count == 1, "day \(day): \(keys.count) different keys")
            #expect(try KeyStore(dataDirectory: data.path).key(for: day) == keys.first)
        }
        let names = try directoryListing(data.path + "/_klogs/keys")
        #expect(names.count == 20, "no temporary files left: \(names)")
    }
}
