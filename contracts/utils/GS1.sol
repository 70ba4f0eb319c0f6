// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @dev GS1 identifiers as the contracts hold them.
 *
 * A GTIN is carried as the integer value of its 14 digits (GTIN-8/12/13 are left-padded with zeros
 * to 14, as GS1 Digital Link does), a GLN as the integer value of its 13 digits, and a serial
 * (GS1 Application Identifier 21) as its ASCII text of 1-20 characters from the GS1 AI encodable
 * character set 82.
 *
 * The unit identifier is the keccak-256 hash of the GS1 element string without parentheses or FNC1:
 * `unitId = keccak256(utf8("01" ‖ gtin14 ‖ "21" ‖ serial))`, e.g. GTIN 09506000134352 and serial
 * "ABC123" give `keccak256("010950600013435221ABC123")`. AI 01 has a fixed length and AI 21 comes
 * last, so the string, and therefore the id, is unambiguous.
 *
 * A parcel (logistic unit) is identified by its SSCC (AI 00): 18 digits with a check digit, carried as
 * their integer value (below 10^18, so it fits a uint64). Its id is the hash of its element string,
 * `parcelId = keccak256(utf8("00" ‖ sscc18))`; the "00" prefix keeps it apart from every unit id,
 * which starts "01". Its GS1 Digital Link is `/00/<sscc18>`.
 */
library GS1 {
    uint256 internal constant MAX_GTIN = 99_999_999_999_999; // 14 digits
    uint256 internal constant MAX_GLN = 9_999_999_999_999; // 13 digits
    uint256 internal constant MAX_SERIAL_LENGTH = 20;
    uint256 internal constant MAX_SSCC = 999_999_999_999_999_999; // 18 digits

    /// @dev Bit `c` is set when ASCII character `c` is in GS1 AI encodable character set 82:
    /// ! " % & ' ( ) * + , - . / 0-9 : ; < = > ? A-Z _ a-z
    uint256 private constant _CSET82 = 0x07fffffe87fffffeffffffe600000000;

    /**
     * @dev Returns true when `key` is non-zero, at most `maxValue` (all nines of the key's
     * length; leading zeros are implied) and its last digit is the GS1 mod-10 check digit of the
     * others: weights 3, 1, 3, … from the right.
     */
    function hasValidCheckDigit(uint256 key, uint256 maxValue) internal pure returns (bool valid) {
        if (key == 0 || key > maxValue) return false;
        // Assembly: this runs for every event's location, and the checked Solidity loop cost ~2,500 gas.
        assembly ("memory-safe") {
            let check := mod(key, 10)
            let rest := div(key, 10)
            let sum := 0
            for {} rest {} {
                sum := add(sum, mul(3, mod(rest, 10)))
                rest := div(rest, 10)
                sum := add(sum, mod(rest, 10))
                rest := div(rest, 10)
            }
            valid := eq(mod(sub(10, mod(sum, 10)), 10), check)
        }
    }

    /// @dev Returns true for a 14-digit GTIN with a correct check digit.
    function isValidGtin(uint256 gtin) internal pure returns (bool) {
        return hasValidCheckDigit(gtin, MAX_GTIN);
    }

    /// @dev Returns true for a 13-digit GLN with a correct check digit.
    function isValidGln(uint256 gln) internal pure returns (bool) {
        return hasValidCheckDigit(gln, MAX_GLN);
    }

    /// @dev Returns true for an 18-digit SSCC with a correct check digit.
    function isValidSscc(uint256 sscc) internal pure returns (bool) {
        return hasValidCheckDigit(sscc, MAX_SSCC);
    }

    /// @dev Returns true for 1-20 characters, each in GS1 AI encodable character set 82.
    function isValidSerial(bytes calldata serial) internal pure returns (bool valid) {
        uint256 len = serial.length;
        if (len == 0 || len > MAX_SERIAL_LENGTH) return false;
        uint256 cset = _CSET82;
        assembly ("memory-safe") {
            valid := 1
            for { let i := 0 } lt(i, len) { i := add(i, 1) } {
                let c := byte(0, calldataload(add(serial.offset, i)))
                // Characters >= 128 shift past the 128-bit set and read as 0.
                if iszero(and(shr(c, cset), 1)) {
                    valid := 0
                    break
                }
            }
        }
    }

    /// @dev The unit identifier described above. `gtin` must be at most 14 digits, `serial` at most 20 bytes.
    function unitId(uint256 gtin, bytes calldata serial) internal pure returns (bytes32 id) {
        uint256 ptr = _writeKey(0x3031, gtin, 14); // "01" ‖ gtin14
        assembly ("memory-safe") {
            mstore8(add(ptr, 16), 0x32) // "2"
            mstore8(add(ptr, 17), 0x31) // "1"
            calldatacopy(add(ptr, 18), serial.offset, serial.length)
            id := keccak256(ptr, add(18, serial.length))
        }
    }

    /// @dev The parcel identifier described above. `sscc` must be at most 18 digits.
    function parcelId(uint256 sscc) internal pure returns (bytes32 id) {
        uint256 ptr = _writeKey(0x3030, sscc, 18); // "00" ‖ sscc18
        assembly ("memory-safe") {
            id := keccak256(ptr, 20)
        }
    }

    /**
     * @dev Writes the two ASCII characters of `ai` (high byte first) and then `key` as `digits` decimal
     * digits, zero-padded, at the free memory pointer, and returns that pointer. Nothing is allocated:
     * the caller hashes the bytes at once (this runs once per commissioned unit).
     */
    function _writeKey(uint256 ai, uint256 key, uint256 digits) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := mload(0x40)
            mstore8(ptr, shr(8, ai))
            mstore8(add(ptr, 1), and(ai, 0xff))
            for { let i := add(digits, 1) } gt(i, 1) { i := sub(i, 1) } {
                mstore8(add(ptr, i), add(0x30, mod(key, 10)))
                key := div(key, 10)
            }
        }
    }
}
