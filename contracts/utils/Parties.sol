// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ITraceRegistry} from "../interfaces/ITraceRegistry.sol";
import {ActorRoles} from "./ActorRoles.sol";

/**
 * @dev Who stands on which side of a sale, by the accredited organisations of {TraceRegistry}: the
 * merchant's side (the merchant and its staff) acts for the merchant; whoever grades a returned unit
 * or decides a dispute or claim moves money between the buyer and the merchant, so it may be neither
 * of them, nor work for either.
 */
library Parties {
    /// @dev Returns true when `account` is `merchant` or holds `MERCHANT_STAFF` in the merchant's organisation.
    function merchantSide(ITraceRegistry registry, address account, address merchant) internal view returns (bool) {
        if (account == merchant) return true;
        ITraceRegistry.Actor memory a = registry.actor(account);
        return a.roles & ActorRoles.MERCHANT_STAFF != 0 && a.organization != 0 && a.organization == registry.actor(merchant).organization;
    }

    /// @dev {independent} for an account whose organisation is read from the registry (an arbiter's).
    function independent(ITraceRegistry registry, address account, address buyer, address merchant) internal view returns (bool) {
        return independent(registry, account, registry.actor(account).organization, buyer, merchant);
    }

    /**
     * @dev Returns true when `account`, of accredited organisation `organization` (0: none, as for any
     * account without registry roles), is neither `buyer` nor `merchant` and works for neither.
     */
    function independent(
        ITraceRegistry registry,
        address account,
        uint64 organization,
        address buyer,
        address merchant
    ) internal view returns (bool) {
        if (account == buyer || account == merchant) return false;
        if (organization == 0) return true; // works for no accredited organisation
        return organization != registry.actor(merchant).organization && organization != registry.actor(buyer).organization;
    }
}
