import PersonaForgeCore
import Testing

@Suite("xxHash64 matches the reference implementation")
struct DedupXXHash64Tests {
    // Reference values from the `xxhash` Python package (xxh64_intdigest).
    @Test(arguments: [
        ("", UInt64(0), UInt64(0xEF46_DB37_51D8_E999)),
        ("a", 0, 0xD24E_C4F1_A98C_6E5B),
        ("abc", 0, 0x44BC_2CF5_AD77_0999),
        ("hello world, this is a longer string of 40+ bytes!!", 0, 0x75DE_F8FF_7798_F842),
        ("", 42, 0x98B1_582B_0977_E704),
        ("a", 42, 0x88E4_FE59_ADF7_B0CC),
        ("abc", 42, 0x13C1_D910_7027_70E6),
        ("hello world, this is a longer string of 40+ bytes!!", 42, 0xE0D6_0DA6_2331_ADC6),
    ])
    func referenceValues(input: String, seed: UInt64, expected: UInt64) {
        #expect(XXHash64.hash(input, seed: seed) == expected)
        #expect(XXHash64.hash(Array(input.utf8), seed: seed) == expected)
    }
}
