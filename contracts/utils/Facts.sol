// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @dev The fact bits an inspector (or the arbiter) attests of a returned unit; the policy's grade
 * follows from them ({IReturnPolicies-deriveGrade}). Bits above {ALL} are refused.
 */
library Facts {
    uint8 internal constant SEAL_INTACT = 1 << 0;
    uint8 internal constant PACKAGING_INTACT = 1 << 1;
    uint8 internal constant USED = 1 << 2;
    uint8 internal constant DEFECTIVE = 1 << 3;
    uint8 internal constant ALL = SEAL_INTACT | PACKAGING_INTACT | USED | DEFECTIVE;
}
