// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {StorePoints} from "../StorePoints.sol";

/// @dev Exposes {StorePoints-_update} to test its holder-to-holder guard directly. Tests only.
contract StorePointsHarness is StorePoints {
    constructor(address admin_) StorePoints(admin_, "") {}

    function update(address from, address to, uint256 id, uint256 value) external {
        uint256[] memory ids = new uint256[](1);
        uint256[] memory values = new uint256[](1);
        ids[0] = id;
        values[0] = value;
        _update(from, to, ids, values);
    }
}
