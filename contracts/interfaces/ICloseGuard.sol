// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @dev The contract that knows who holds each unit (the escrow), as {TraceRegistry} consults it: it says
 * whether `signer`, holding the role bits `roles`, may close a unit with `bizStep` and `disposition`
 * now, and it hears of the accreditor's reviews of a product class (its listings sell under the
 * flags in force). See {ITraceRegistry-setCloseGuard}.
 */
interface ICloseGuard {
    /**
     * @dev Returns true when the closing may be recorded: the unit is the brand's stock and the brand
     * decommissions it, or a partner's receipt (or a destruction) follows the disposition a settled
     * order decided for it. False while an order holds the unit before its facts are attested or
     * while a dispute is open.
     * @param unitId The unit the closing event names.
     * @param signer The event's signer.
     * @param roles The signer's role bits in the registry.
     * @param bizStep The event's business step (`ITraceRegistry.BizStep`).
     * @param disposition The event's disposition (`ITraceRegistry.Disposition`).
     * @return True when the registry may record the closing.
     */
    function mayClose(bytes32 unitId, address signer, uint32 roles, uint8 bizStep, uint8 disposition) external view returns (bool);

    /**
     * @dev Called by the registry when the accreditor sets `gtin`'s class flags to `classFlags`: a
     * listing made under other flags no longer sells (a reviewed flag applies to later orders).
     *
     * Requirements: the caller is the registry.
     * @param gtin The product class reviewed.
     * @param classFlags Its class flags from now on.
     */
    function classFlagsReviewed(uint64 gtin, uint8 classFlags) external;

    /**
     * @dev Returns true when a milestone recorded at `recordedAt` under `ref` for the unit was recorded
     * before the step of the unit's order it belongs to: before the purchase for the order's reference,
     * before the return request for its RMA, and for the zero reference (a carrier's packing of the unit
     * into a parcel as returned) before the return request of the unit's last order, or when it has none.
     * Such a scan proves nothing of this order (references are predictable; a packing may be an earlier
     * return's), so the next scan under the reference replaces it; once a scan counts, no later one can
     * move the deadline it started.
     * @param unitId The unit scanned.
     * @param ref The scan's business transaction: an order reference, an RMA, or zero for a return parcel's packing.
     * @param recordedAt When the chain recorded the scan (its block's time).
     * @return True when the scan predates the order step `ref` belongs to, so it does not count.
     */
    function scanPredatesOrder(bytes32 unitId, bytes32 ref, uint256 recordedAt) external view returns (bool);
}
