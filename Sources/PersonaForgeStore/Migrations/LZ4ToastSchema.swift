public import PersonaForgePostgres

extension PersonaForgeSchema {
    /// Version 8: lz4 instead of pglz for the large values PostgreSQL compresses.
    ///
    /// `pglz_compress` was the PostgreSQL server's hottest function in `personaforge-bench
    /// --end-to-end` (12 % of its CPU): each reducer stores its live diversity state (a
    /// few MB of JSON) every few seconds, and long records are compressed on insert.
    /// lz4 compresses several times faster. Only values written from now on use it
    /// (nothing is rewritten, so the migration is instant); a server built without lz4
    /// keeps pglz and says so in a notice.
    public static let lz4ToastSchema = Migration(
        version: 8,
        name: "lz4 compression",
        sql: """
        DO $$
        BEGIN
            ALTER TABLE records ALTER COLUMN text SET COMPRESSION lz4,
                ALTER COLUMN steps SET COMPRESSION lz4, ALTER COLUMN condition SET COMPRESSION lz4;
            ALTER TABLE diversity_states ALTER COLUMN state SET COMPRESSION lz4;
        EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
            RAISE NOTICE 'this PostgreSQL has no lz4 (%): large values stay pglz-compressed', SQLERRM;
        END $$;
        """
    )
}
