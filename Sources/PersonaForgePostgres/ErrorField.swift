internal import CLibpq

/// The diagnostic fields of a libpq error or notice result
/// (`PG_DIAG_*`; the C macros are character literals Swift does not import).
enum ErrorField: UInt8 {
    case severity = 0x53               // 'S'
    case severityNonLocalized = 0x56   // 'V'
    case sqlState = 0x43               // 'C'
    case primaryMessage = 0x4D         // 'M'
    case detail = 0x44                 // 'D'
    case hint = 0x48                   // 'H'
    case schemaName = 0x73             // 's'
    case tableName = 0x74              // 't'
    case columnName = 0x63             // 'c'
    case constraintName = 0x6E         // 'n'
}

/// One diagnostic field of `result`, copied into a Swift string.
func errorField(_ result: OpaquePointer, _ field: ErrorField) -> String? {
    guard let value = PQresultErrorField(result, Int32(field.rawValue)) else { return nil }
    return String(cString: value)
}
