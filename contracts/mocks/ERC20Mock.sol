// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @dev A stablecoin stand-in with 6 decimals and open minting. Tests and the local demo only.
contract ERC20Mock is ERC20 {
    uint256 public immutable feeBps;

    /// @param feeBps_ share of every transfer burnt, to model fee-on-transfer tokens (0: a plain token).
    constructor(string memory name, string memory symbol, uint256 feeBps_) ERC20(name, symbol) {
        feeBps = feeBps_;
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        uint256 fee = from == address(0) ? 0 : (value * feeBps) / 10_000;
        if (fee > 0) super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
