// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @dev Role bits of accredited actors in {TraceRegistry}: which lifecycle steps and attestations
 * an actor may sign. An actor may hold several.
 */
library ActorRoles {
    uint32 internal constant BRAND = 1 << 0;
    uint32 internal constant CARRIER = 1 << 1;
    uint32 internal constant WAREHOUSE = 1 << 2;
    uint32 internal constant INSPECTOR = 1 << 3;
    uint32 internal constant CHARITY = 1 << 4;
    uint32 internal constant RECYCLER = 1 << 5;
    /// @dev Acts for the merchant of its organisation on cases and disputes; signs no step, lists nothing.
    uint32 internal constant MERCHANT_STAFF = 1 << 6;
}
