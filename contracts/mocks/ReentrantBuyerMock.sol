// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IReturnEscrow} from "../interfaces/IReturnEscrow.sol";

/// @dev A buyer contract that tries to withdraw again while being paid. Tests only.
contract ReentrantBuyerMock {
    IReturnEscrow public immutable escrow;
    uint256 public reentries;
    bool public reenterFailed;

    constructor(IReturnEscrow escrow_) {
        escrow = escrow_;
    }

    function purchase(bytes32 unitId, IReturnEscrow.ListingTerms calldata expected) external payable returns (uint256) {
        return escrow.purchase{value: msg.value}(unitId, expected, false);
    }

    function requestReturn(uint256 orderId, uint8 reason) external {
        escrow.requestReturn(orderId, reason, 0);
    }

    function withdraw() external {
        escrow.withdraw(address(0));
    }

    receive() external payable {
        if (reentries == 0) {
            ++reentries;
            try escrow.withdraw(address(0)) {} catch {
                reenterFailed = true;
            }
        }
    }
}
