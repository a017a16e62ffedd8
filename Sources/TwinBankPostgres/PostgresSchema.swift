import Foundation
import PostgresNIO
import TwinBank

/// The bank's schema on PostgreSQL, built by named, versioned migrations (``migrations``), recorded in the table
/// `twinbank_schema (name, version, applied_at)`.
///
/// Tables (in the connection's current schema, normally `public`):
/// - `events`: the thread, one row per event with compact columns (integer microsecond times, dictionary ids for
///   twin, code, source and unit, the value in `vkind`/`num`/`unit`/`txt`/`bin` (`txt` as UTF-8 bytes: PostgreSQL's
///   `text` cannot hold the NUL character a text value may have), provenance JSON only when present,
///   the content hash as four `bigint`s), **partitioned by hash of the twin id** into 16 partitions
///   (`events_p0` … `events_p15`), so one twin's queries touch one partition. Primary key `(seq, twin)` (a
///   partitioned table's keys include the partition key); the index `(twin, code, eff, seq)` makes the latest
///   value of a code as of a time one backward index seek, and `(twin, eff, seq)` reads a thread in its order (or a
///   page of it after a cursor) without a sort.
/// - `twin_codes (twin, code)` (and its index `(code, twin)`), `twin_sources (source, twin)`: which twins have
///   which codes and sources, without scanning the thread.
/// - dictionaries `twins`, `codes`, `sources`, `units` (ids from identity columns, never reused), `code_units`
///   (the first unit of a code), `batches (last_seq, first_seq, recorded)`, `refs`, `objects`, `meta`
///   (`last_seq`, `dictionary_generation`).
/// - the audit log: `audit_entry`, `audit_node`, `audit_head` (``PostgresAuditStore``).
///
/// No foreign key joins rows of different twins, and every per-twin table's key includes the twin, so the schema
/// can be distributed by twin id (Citus; see the README's "PostgreSQL storage" section):
///
/// ```sql
/// SELECT create_distributed_table('events', 'twin');
/// SELECT create_distributed_table('twin_codes', 'twin', colocate_with => 'events');
/// SELECT create_distributed_table('twin_sources', 'twin', colocate_with => 'events');
/// SELECT create_reference_table(t) FROM unnest(ARRAY['twins','codes','sources','units','code_units',
///        'batches','refs','objects','meta','audit_entry','audit_node','audit_head','twinbank_schema']) AS t;
/// ```
public enum PostgresSchema {
    /// One named migration: the statements it runs, in one transaction with its record in `twinbank_schema`.
    public struct Migration: Sendable {
        public let name: String
        let statements: [String]
    }

    /// Partitions of `events` (by hash of the twin id).
    public static let eventPartitions = 16

    /// Every migration, in order; the schema version of this code is their number.
    public static let migrations: [Migration] = [
        Migration(name: "v1-schema", statements: [
            """
            CREATE TABLE twins (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text COLLATE "C" NOT NULL UNIQUE)
            """,
            """
            CREATE TABLE codes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, system text NOT NULL, code text NOT NULL,
                                display text NOT NULL DEFAULT '', has_display boolean NOT NULL DEFAULT false,
                                UNIQUE (system, code, display, has_display))
            """,
            "CREATE TABLE sources (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, text text NOT NULL UNIQUE)",
            "CREATE TABLE units (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, text text NOT NULL UNIQUE)",
            """
            CREATE TABLE events (
                seq bigint NOT NULL,
                twin bigint NOT NULL,
                code bigint NOT NULL,
                eff bigint NOT NULL,
                eff_end bigint,
                recorded bigint NOT NULL,
                category smallint NOT NULL,
                vkind smallint NOT NULL,
                num double precision,
                unit bigint,
                txt bytea,
                bin bytea,
                source bigint NOT NULL,
                prov bytea,
                h0 bigint NOT NULL,
                h1 bigint NOT NULL,
                h2 bigint NOT NULL,
                h3 bigint NOT NULL,
                retracted bigint,
                erasure text,
                PRIMARY KEY (seq, twin)
            ) PARTITION BY HASH (twin)
            """,
        ] + (0..<eventPartitions).map { i in
            "CREATE TABLE events_p\(i) PARTITION OF events FOR VALUES WITH (MODULUS \(eventPartitions), REMAINDER \(i))"
        } + [
            "CREATE INDEX events_twin_code_eff ON events (twin, code, eff, seq)",
            "CREATE TABLE twin_codes (twin bigint NOT NULL, code bigint NOT NULL, PRIMARY KEY (twin, code))",
            "CREATE INDEX twin_codes_code ON twin_codes (code, twin)",
            "CREATE TABLE twin_sources (source bigint NOT NULL, twin bigint NOT NULL, PRIMARY KEY (source, twin))",
            "CREATE INDEX twin_sources_twin ON twin_sources (twin)",
            "CREATE TABLE batches (last_seq bigint PRIMARY KEY, first_seq bigint NOT NULL, recorded bigint NOT NULL)",
            "CREATE INDEX batches_recorded ON batches (recorded)",
            #"CREATE TABLE refs (name text COLLATE "C" PRIMARY KEY, value text NOT NULL)"#,
            "CREATE TABLE objects (hash bytea PRIMARY KEY, kind text NOT NULL, bytes bytea NOT NULL)",
            "CREATE INDEX objects_kind ON objects (kind, hash)",
            "CREATE TABLE code_units (system text NOT NULL, code text NOT NULL, unit text NOT NULL, PRIMARY KEY (system, code))",
            "CREATE TABLE meta (key text PRIMARY KEY, value bigint NOT NULL)",
            "INSERT INTO meta (key, value) VALUES ('last_seq', 0), ('dictionary_generation', 0)",
        ]),
        // the tamper-evident audit log (TwinGovernance's AuditLog through PostgresAuditStore), as in SQLite
        Migration(name: "v2-audit-log", statements: [
            """
            CREATE TABLE audit_entry (
                seq bigint PRIMARY KEY,
                time bigint NOT NULL,
                actor text NOT NULL,
                role text,
                organisation text,
                action text NOT NULL,
                twin text,
                purpose text NOT NULL,
                decision text NOT NULL,
                reason text NOT NULL,
                leaf bytea NOT NULL
            )
            """,
            "CREATE INDEX audit_entry_twin ON audit_entry (twin, seq) WHERE twin IS NOT NULL",
            "CREATE TABLE audit_node (level bigint NOT NULL CHECK (level > 0), idx bigint NOT NULL, hash bytea NOT NULL, PRIMARY KEY (level, idx))",
            "CREATE TABLE audit_head (size bigint PRIMARY KEY, root bytea NOT NULL, time bigint NOT NULL, signature bytea NOT NULL)",
        ]),
        // idempotency keys of append batches (Bank.append(_:idempotencyKey:)): unique in the bank
        Migration(name: "v3-idempotency-keys", statements: [
            "ALTER TABLE batches ADD COLUMN idem_key text, ADD COLUMN idem_digest bytea",
            "CREATE UNIQUE INDEX batches_idem ON batches (idem_key) WHERE idem_key IS NOT NULL",
        ]),
        // the records of a server's long jobs (PostgresJobRecordStore), so they outlive the process: not the bank's data
        Migration(name: "v4-server-jobs", statements: [
            "CREATE TABLE server_jobs (id text PRIMARY KEY, ordinal bigint NOT NULL, record bytea NOT NULL)",
        ]),
        // per webhook URL, the sequence of the last alert delivered or abandoned (PostgresWebhookCursorStore): not the bank's data
        Migration(name: "v5-webhook-cursors", statements: [
            "CREATE TABLE webhook_cursors (url text PRIMARY KEY, sequence bigint NOT NULL)",
        ]),
        // a twin's thread in its order (effective start, then sequence) without a sort, and a page after a cursor
        // (ThreadQuery.after) as one index range: the thread read whole or paged with no code named
        Migration(name: "v6-events-by-time", statements: [
            "CREATE INDEX events_twin_eff ON events (twin, eff, seq)",
        ]),
    ]

    /// The schema version of this code: the number of its migrations.
    public static var version: Int { migrations.count }

    /// The advisory lock key that serialises migrations (`TWNM`).
    static let migrationLock: Int64 = 0x5457_4E4D

    /// Brings the connection's database to this code's schema, in one transaction under an advisory lock (so
    /// processes opening the bank at once apply each migration once). Returns the names of the migrations applied
    /// now (empty when the schema was current).
    /// - Parameter create: whether a database without the bank's schema gets it (false: it is refused).
    /// - Throws: ``BankError`` `newerSchema` when the database's schema version is above ``version`` or it records
    ///   a migration this code does not know; `notABank` when the database has tables but not the bank's, or (without
    ///   `create`) has no bank.
    static func migrate(_ c: BlockingConnection, create: Bool = true) throws -> [String] {
        try c.execute("BEGIN")
        do {
            try c.execute("SELECT pg_advisory_xact_lock(\(migrationLock))")
            let exists = try c.one(Bool.self, "SELECT to_regclass('twinbank_schema') IS NOT NULL") ?? false
            var applied: [String: Int] = [:]
            if exists {
                for row in try c.query("SELECT name, version FROM twinbank_schema").rows {
                    let (name, version) = try PostgresFailure.decoding(c.location) { try row.decode((String, Int).self) }
                    applied[name] = version
                }
            } else {
                let tables = try c.all(String.self, """
                    SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1 LIMIT 5
                    """)
                if !tables.isEmpty {
                    throw BankError(.notABank, "the database at \(c.location) is not a Twinbank bank: it has tables (\(tables.joined(separator: ", "))) but no twinbank_schema; name an empty database or a bank", value: c.location.description)
                }
                if !create {
                    throw BankError(.notABank, "no bank in the database at \(c.location): it is empty; create the bank there first (`twinbank init --bank \(c.location)`)", value: c.location.description)
                }
                try c.execute("""
                    CREATE TABLE twinbank_schema (name text PRIMARY KEY, version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                    """)
            }
            let known = Set(migrations.map(\.name))
            let stored = applied.values.max() ?? 0
            let unknown = applied.keys.filter { !known.contains($0) }.sorted()
            if stored > version || !unknown.isEmpty {
                throw BankError(.newerSchema, "the bank at \(c.location) has schema version \(stored)\(unknown.isEmpty ? "" : " (migrations \(unknown.joined(separator: ", ")))"), newer than this Twinbank's \(version): use a Twinbank at least as new as the one that wrote it; nothing was changed", value: c.location.description)
            }
            var now: [String] = []
            for (i, m) in migrations.enumerated() where applied[m.name] == nil {
                for s in m.statements { try c.execute(PostgresQuery(unsafeSQL: s)) }
                try c.execute("INSERT INTO twinbank_schema (name, version) VALUES (\(m.name), \(i + 1))")
                now.append(m.name)
            }
            try c.execute("COMMIT")
            return now
        } catch {
            _ = try? c.execute("ROLLBACK")
            throw error
        }
    }
}
