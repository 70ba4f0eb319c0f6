// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @dev What {TraceRegistry} asks before a unit closes: the contract that knows who holds the unit (the
 * escrow) says whether `signer`, holding the role bits `roles`, may close it with `bizStep` and
 * `disposition` now. See {ITraceRegistry-setCloseGuard}.
 */
interface ICloseGuard {
    /**
     * @dev Returns true when the closing may be recorded: the unit is the brand's stock and the brand
     * decommissions it, or a partner's receipt (or a destruction) follows the disposition a settled
     * order decided for it. False while an order holds the unit before its facts are attested or
     * while a dispute is open.
     */
    function mayClose(bytes32 unitId, address signer, uint32 roles, uint8 bizStep, uint8 disposition) external view returns (bool);
}
