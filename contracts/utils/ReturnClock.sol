// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IReturnEscrow} from "../interfaces/IReturnEscrow.sol";
import {IReturnPolicies} from "../interfaces/IReturnPolicies.sol";
import {ITraceRegistry} from "../interfaces/ITraceRegistry.sol";

/**
 * @dev Every date an escrow order runs by: when it was delivered, received, sent back, until when it
 * may be returned, and when its statutory refund falls due, from the registry's scans, the policy's
 * relay delay and the law's calendar ({IReturnPolicies-periodEnd}).
 *
 * A linked library (public functions, called by DELEGATECALL): {ReturnEscrow}'s state machine and its
 * clock are separate code, so that the escrow fits the contract size limit without splitting its
 * state. Scans count at the time the signer attested, but no earlier than their recording less the
 * relay delay: a scan relayed later than the policy allows counts from then.
 */
library ReturnClock {
    /// @dev A milestone's time (0: none): the signed time, bounded by the relay delay.
    function scanTime(ITraceRegistry.MilestoneRecord memory m, uint256 maxRelayDelay) internal pure returns (uint256) {
        if (m.at == 0) return 0;
        uint256 floor = m.recordedAt > maxRelayDelay ? m.recordedAt - maxRelayDelay : 0;
        return m.at > floor ? m.at : floor;
    }

    /**
     * @dev Delivery time from the carrier's scan under `ref` (the order reference), never before the
     * purchase (0: none). A scan recorded before the purchase is none: order references are
     * predictable, and a delivery made up before anyone bought proves nothing of this one.
     */
    function deliveredAt(
        IReturnEscrow.Order storage o,
        ITraceRegistry registry,
        bytes32 ref,
        uint256 maxRelayDelay
    ) public view returns (uint256 t) {
        ITraceRegistry.MilestoneRecord memory m = registry.milestone(o.unitId, ref, ITraceRegistry.Milestone.Delivered);
        uint256 purchased = o.purchasedAt;
        if (m.recordedAt < purchased) return 0;
        t = scanTime(m, maxRelayDelay);
        if (t < purchased) t = purchased;
    }

    /**
     * @dev Time of the return warehouse's receiving scan under `rma`, if recorded after the return
     * request (a scan made up before the buyer asked proves nothing of this return; 0: none).
     */
    function receivedAt(
        IReturnEscrow.Order storage o,
        ITraceRegistry registry,
        bytes32 rma,
        uint256 maxRelayDelay
    ) public view returns (uint256) {
        return _afterRequest(o, registry.milestone(o.unitId, rma, ITraceRegistry.Milestone.ReturnReceived), maxRelayDelay);
    }

    /**
     * @dev Time of a carrier's scan proving the return was sent back after the request: its pickup
     * under `rma`, or its packing of the unit into a return parcel (0: no proof).
     */
    function dispatchedAt(
        IReturnEscrow.Order storage o,
        ITraceRegistry registry,
        bytes32 rma,
        uint256 maxRelayDelay
    ) public view returns (uint256 t) {
        t = _afterRequest(o, registry.milestone(o.unitId, rma, ITraceRegistry.Milestone.Dispatched), maxRelayDelay);
        if (t == 0) t = _afterRequest(o, registry.milestone(o.unitId, bytes32(0), ITraceRegistry.Milestone.Dispatched), maxRelayDelay);
    }

    /// @dev The receiving scan under `rma`, and whether an accredited return center for the order's market made it after the request.
    function receipt(
        IReturnEscrow.Order storage o,
        ITraceRegistry registry,
        bytes32 rma
    ) public view returns (ITraceRegistry.MilestoneRecord memory scan, bool accredited) {
        scan = registry.milestone(o.unitId, rma, ITraceRegistry.Milestone.ReturnReceived);
        accredited =
            scan.at != 0 &&
            scan.recordedAt >= o.requestedAt &&
            registry.returnCenterAccredited(scan.location, scan.organization, o.market);
    }

    /// @dev Whether now is inside the statutory withdrawal period (whole days, the law's calendar), extended by rejected claims.
    function withinWithdrawal(IReturnEscrow.Order storage o, IReturnPolicies policies, uint256 delivered) public view returns (bool) {
        uint256 dayCount = policies.law(o.market).withdrawalDays;
        return dayCount != 0 && block.timestamp <= policies.periodEnd(o.market, delivered, dayCount) + o.windowExtension;
    }

    /// @dev The last second a return may be requested: the later of the statutory and the voluntary period, plus the extension.
    function windowCloses(
        IReturnEscrow.Order storage o,
        IReturnPolicies policies,
        uint256 delivered,
        uint256 returnWindow
    ) public view returns (uint256) {
        uint256 dayCount = policies.law(o.market).withdrawalDays;
        uint256 statutory = dayCount == 0 ? 0 : policies.periodEnd(o.market, delivered, dayCount);
        uint256 voluntary = delivered + returnWindow;
        return (statutory > voluntary ? statutory : voluntary) + o.windowExtension;
    }

    /**
     * @dev When the statutory refund falls due (0: not until the unit is back or its dispatch proved).
     * From the receipt where the law counts from it (China); else the law's days from the request,
     * withheld until the earlier of receipt and proof of dispatch unless the merchant collects at the
     * door (EU Art. 13(3)); a return sent later than that gives the merchant its inspection SLA after it.
     */
    function refundDueAt(
        IReturnEscrow.Order storage o,
        ITraceRegistry registry,
        IReturnPolicies policies,
        bytes32 rma,
        IReturnPolicies.Policy memory p
    ) public view returns (uint256) {
        IReturnPolicies.Law memory l = policies.law(o.market);
        if (l.refundDays == 0) return 0;
        uint256 received = receivedAt(o, registry, rma, p.maxRelayDelay);
        if (l.refundFromReceipt) return received == 0 ? 0 : policies.periodEnd(o.market, received, l.refundDays);
        uint256 due = policies.periodEnd(o.market, o.requestedAt, l.refundDays);
        if (p.freePickup) return due;
        uint256 dispatched = dispatchedAt(o, registry, rma, p.maxRelayDelay);
        uint256 back = received == 0 ? dispatched : (dispatched == 0 || received < dispatched ? received : dispatched);
        if (back == 0) return 0;
        return back > due ? back + p.inspectionSla : due;
    }

    function _afterRequest(
        IReturnEscrow.Order storage o,
        ITraceRegistry.MilestoneRecord memory m,
        uint256 maxRelayDelay
    ) private view returns (uint256) {
        uint256 requested = o.requestedAt;
        if (m.at == 0 || m.recordedAt < requested) return 0;
        uint256 t = scanTime(m, maxRelayDelay);
        return t > requested ? t : requested;
    }
}
