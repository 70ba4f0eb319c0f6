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
 */
library GS1 {
    uint256 internal constant MAX_GTIN = 99_999_999_999_999; // 14 digits
    uint256 internal constant MAX_GLN = 9_999_999_999_999; // 13 digits
    uint256 internal constant MAX_SERIAL_LENGTH = 20;

    /// @dev Bit `c` is set when ASCII character `c` is in GS1 AI encodable character set 82:
    /// ! " % & ' ( ) * + , - . / 0-9 : ; < = > ? A-Z _ a-z
    uint256 private constant _CSET82 = 0x07fffffe87fffffeffffffe600000000;

    /**
     * @dev Returns true when `number` has the given count of digits (leading zeros allowed) and its
     * last digit is the GS1 mod-10 check digit of the others (weights 3,1,3,… from the right).
     */
    function hasValidCheckDigit(uint256 number, uint256 digits) internal pure returns (bool) {
        if (number == 0 || number >= 10 ** digits) return false;
        uint256 check = number % 10;
        uint256 rest = number / 10;
        uint256 sum;
        unchecked {
            for (uint256 i = 0; i < digits - 1; ++i) {
                uint256 d = rest % 10;
                sum += (i % 2 == 0) ? d * 3 : d;
                rest /= 10;
            }
        }
        return (10 - (sum % 10)) % 10 == check;
    }

    /// @dev Returns true for a 14-digit GTIN with a correct check digit.
    function isValidGtin(uint256 gtin) internal pure returns (bool) {
        return hasValidCheckDigit(gtin, 14);
    }

    /// @dev Returns true for a 13-digit GLN with a correct check digit.
    function isValidGln(uint256 gln) internal pure returns (bool) {
        return hasValidCheckDigit(gln, 13);
    }

    /// @dev Returns true for 1-20 characters, each in GS1 AI encodable character set 82.
    function isValidSerial(bytes calldata serial) internal pure returns (bool) {
        uint256 len = serial.length;
        if (len == 0 || len > MAX_SERIAL_LENGTH) return false;
        for (uint256 i = 0; i < len; ) {
            uint8 c = uint8(serial[i]);
            if (c >= 128 || (_CSET82 >> c) & 1 == 0) return false;
            unchecked {
                ++i;
            }
        }
        return true;
    }

    /// @dev The unit identifier described above. `gtin` must be at most 14 digits.
    function unitId(uint256 gtin, bytes calldata serial) internal pure returns (bytes32 id) {
        bytes memory digits = new bytes(14);
        unchecked {
            for (uint256 i = 14; i > 0; --i) {
                digits[i - 1] = bytes1(uint8(48 + (gtin % 10)));
                gtin /= 10;
            }
        }
        return keccak256(abi.encodePacked("01", digits, "21", serial));
    }
}
