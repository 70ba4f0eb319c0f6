// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {IStorePoints} from "./interfaces/IStorePoints.sol";
import {DelegatedSignatures} from "./utils/DelegatedSignatures.sol";

/**
 * @title StorePoints
 * @dev Non-transferable points per merchant and currency. See {IStorePoints}.
 *
 * Built on OpenZeppelin's ERC-1155 (token id from merchant and currency) rather than a bespoke ledger so that
 * wallets, explorers and the gateway's indexer read balances with `balanceOf(holder, id)` and follow
 * issuance and redemption through the standard {TransferSingle} events. Everything that would move
 * points between holders is shut: {safeTransferFrom}, {safeBatchTransferFrom} and {setApprovalForAll}
 * revert, and {_update} refuses any holder-to-holder movement as a second line of defence. Minting
 * deliberately skips the ERC-1155 receiver hook (see {IStorePoints-mint}).
 */
contract StorePoints is ERC1155, DelegatedSignatures, IStorePoints {
    bytes32 private constant _REDEMPTION_TYPEHASH =
        keccak256("Redemption(address holder,address merchant,address currency,uint256 amount,uint256 nonce,uint64 deadline)");

    /// @dev The one account that sets the minter, once; it has no other power.
    address public immutable admin;

    address private _minter;

    /**
     * @dev Binds the points to `admin`, who sets the minter (the escrow) once ({setMinter}). `uri_` is
     * the ERC-1155 metadata URI template.
     */
    constructor(address admin_, string memory uri_) ERC1155(uri_) DelegatedSignatures("ReturnTrace StorePoints", "2") {
        if (admin_ == address(0)) revert StorePointsZeroAddress();
        admin = admin_;
    }

    /// @inheritdoc IStorePoints
    function setMinter(address minter_) external {
        if (msg.sender != admin) revert StorePointsNotAdmin(msg.sender);
        if (minter_ == address(0)) revert StorePointsZeroAddress();
        if (_minter != address(0)) revert StorePointsMinterSet(_minter);
        _minter = minter_;
        emit MinterSet(minter_);
    }

    /// @inheritdoc IStorePoints
    function minter() external view returns (address) {
        return _minter;
    }

    /// @inheritdoc IStorePoints
    function mint(address holder, address merchant, address currency, uint256 amount) external {
        if (msg.sender != _minter || msg.sender == address(0)) revert StorePointsNotMinter(msg.sender);
        if (holder == address(0) || merchant == address(0)) revert StorePointsZeroAddress();
        if (amount == 0) revert StorePointsZeroAmount();
        (uint256[] memory ids, uint256[] memory values) = _singleton(_pointsId(merchant, currency), amount);
        _update(address(0), holder, ids, values);
    }

    /// @inheritdoc IStorePoints
    function redeem(address holder, address currency, uint256 amount, uint256 nonce, uint64 deadline, bytes calldata signature) external {
        if (amount == 0) revert StorePointsZeroAmount();
        bytes32 structHash = keccak256(abi.encode(_REDEMPTION_TYPEHASH, holder, msg.sender, currency, amount, nonce, deadline));
        _useSignature(holder, structHash, nonce, deadline, signature);
        (uint256[] memory ids, uint256[] memory values) = _singleton(_pointsId(msg.sender, currency), amount);
        _update(holder, address(0), ids, values);
        emit PointsRedeemed(holder, msg.sender, currency, amount, nonce);
    }

    /// @inheritdoc IStorePoints
    function pointsOf(address holder, address merchant, address currency) external view returns (uint256) {
        return balanceOf(holder, _pointsId(merchant, currency));
    }

    /// @inheritdoc IStorePoints
    function pointsId(address merchant, address currency) external pure returns (uint256) {
        return _pointsId(merchant, currency);
    }

    /// @inheritdoc IStorePoints
    function getRedemptionTypeHash() external pure returns (bytes32) {
        return _REDEMPTION_TYPEHASH;
    }

    /**
     * @dev Points cannot be transferred: always reverts with {StorePointsNonTransferable}.
     */
    function safeTransferFrom(address, address, uint256, uint256, bytes memory) public pure override {
        revert StorePointsNonTransferable();
    }

    /**
     * @dev Points cannot be transferred: always reverts with {StorePointsNonTransferable}.
     */
    function safeBatchTransferFrom(
        address,
        address,
        uint256[] memory,
        uint256[] memory,
        bytes memory
    ) public pure override {
        revert StorePointsNonTransferable();
    }

    /**
     * @dev No operator may move points: always reverts with {StorePointsNonTransferable}.
     */
    function setApprovalForAll(address, bool) public pure override {
        revert StorePointsNonTransferable();
    }

    /// @dev Only mints (from zero) and burns (to zero) are allowed.
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values) internal override {
        if (from != address(0) && to != address(0)) revert StorePointsNonTransferable();
        super._update(from, to, ids, values);
    }

    function _pointsId(address merchant, address currency) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(merchant, currency)));
    }

    function _singleton(uint256 id, uint256 value) private pure returns (uint256[] memory ids, uint256[] memory values) {
        ids = new uint256[](1);
        values = new uint256[](1);
        ids[0] = id;
        values[0] = value;
    }
}
