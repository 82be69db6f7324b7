import Foundation

/// A setting's value: its flag when given, else its environment variable; an empty
/// value counts as unset. Nil when neither is set (the caller picks the default).
/// `isFlag` tells error messages and `doctor` where the value came from.
func flagOrEnvironment(_ flag: String?, _ variable: String) -> (value: String, isFlag: Bool)? {
    if let flag, !flag.isEmpty { return (flag, true) }
    if let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty { return (value, false) }
    return nil
}
