// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IReturnEscrow} from "../interfaces/IReturnEscrow.sol";
import {IReturnPolicies} from "../interfaces/IReturnPolicies.sol";
import {ITraceRegistry} from "../interfaces/ITraceRegistry.sol";
import {Facts} from "./Facts.sol";

/**
 * @dev Who holds a unit, from the escrow's orders alone (no storage word of its own): the brand while
 * the unit is its stock (never sold, or its last order ended with an inspection that found it
 * sellable) and when a settled order's attested facts sent it back to the merchant unsellable (the
 * brand may retire it, not sell it), a buyer or the escrow while an order on it is open, and the
 * partner a settled order's attested facts sent it to. The escrow answers the registry's {ICloseGuard} and decides what may be
 * listed or reserved with it. A linked library (called by DELEGATECALL).
 */
library UnitCustody {

    /**
     * @dev Whether the unit of the ended order `o` is the merchant's to sell again: never delivered,
     * or an inspection attested it unused and not defective (with its hygiene seal intact) and its
     * grade terms restock it. A unit refunded without inspection waits for one.
     */
    function backInStock(IReturnEscrow.Order storage o, IReturnPolicies policies) public view returns (bool) {
        IReturnEscrow.OrderStatus status = o.status;
        if (status == IReturnEscrow.OrderStatus.Cancelled) return true;
        if (status != IReturnEscrow.OrderStatus.Settled || o.grade == IReturnPolicies.Grade.None) return false;
        uint8 facts = o.facts;
        if (facts & (Facts.USED | Facts.DEFECTIVE) != 0) return false;
        if (o.hygieneSealed && facts & Facts.SEAL_INTACT == 0) return false;
        return dispositionOf(o, policies) == IReturnPolicies.Disposition.Restock;
    }

    /**
     * @dev {ICloseGuard-mayClose} for a unit whose listing merchant is `listedBy` and whose last order
     * is `o` (`last` its id, 0: never sold): its brand decommissions its stock (the registry checked
     * the brand), and a partner's receipt (or a destruction) follows a settled order's disposition.
     * A unit whose settled order sent it back to the merchant (disposition Restock) is the brand's
     * even when the attested facts keep it from being sold again (defective, used, seal broken): the
     * brand may retire it.
     */
    function mayClose(
        IReturnEscrow.Order storage o,
        uint256 last,
        address listedBy,
        IReturnPolicies policies,
        uint8 bizStep,
        uint8 disposition
    ) external view returns (bool) {
        if (bizStep == uint8(ITraceRegistry.BizStep.Decommissioning)) {
            return listedBy == address(0) && (last == 0 || backInStock(o, policies) || _returnedToMerchant(o, policies));
        }
        if (last == 0 || o.status != IReturnEscrow.OrderStatus.Settled || o.grade == IReturnPolicies.Grade.None) return false;
        IReturnPolicies.Disposition d = dispositionOf(o, policies);
        if (disposition == uint8(ITraceRegistry.Disposition.Donated)) return d == IReturnPolicies.Disposition.Donate;
        if (disposition == uint8(ITraceRegistry.Disposition.Recycled)) return d == IReturnPolicies.Disposition.Recycle;
        if (disposition == uint8(ITraceRegistry.Disposition.Destroyed)) return d == IReturnPolicies.Disposition.Destroy;
        return false;
    }

    /// @dev Whether the order settled on attested facts whose grade terms send the unit back to the merchant.
    function _returnedToMerchant(IReturnEscrow.Order storage o, IReturnPolicies policies) private view returns (bool) {
        return
            o.status == IReturnEscrow.OrderStatus.Settled &&
            o.grade != IReturnPolicies.Grade.None &&
            dispositionOf(o, policies) == IReturnPolicies.Disposition.Restock;
    }

    /// @dev Where the grade terms send the unit of a settled order: the grade its attested facts give.
    function dispositionOf(IReturnEscrow.Order storage o, IReturnPolicies policies) public view returns (IReturnPolicies.Disposition) {
        IReturnPolicies.Grade g = policies.deriveGrade(o.market, o.policyVersion, o.facts);
        return policies.policy(o.market, o.policyVersion).terms[uint8(g) - 1].disposition;
    }
}
