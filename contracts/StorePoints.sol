// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {IStorePoints} from "./interfaces/IStorePoints.sol";
import {DelegatedSignatures} from "./utils/DelegatedSignatures.sol";

/**
 * @title StorePoints
 * @dev Non-transferable points per merchant. See {IStorePoints}.
 *
 * Built on OpenZeppelin's ERC-1155 (token id = merchant address) rather than a bespoke ledger so that
 * wallets, explorers and the gateway's indexer read balances with `balanceOf(holder, id)` and follow
 * issuance and redemption through the standard {TransferSingle} events. Everything that would move
 * points between holders is shut: {safeTransferFrom}, {safeBatchTransferFrom} and {setApprovalForAll}
 * revert, and {_update} refuses any holder-to-holder movement as a second line of defence. Minting
 * deliberately skips the ERC-1155 receiver hook (see {IStorePoints-mint}).
 */
contract StorePoints is ERC1155, AccessControl, DelegatedSignatures, IStorePoints {
    /// @dev May issue points: granted to the return escrow.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    bytes32 private constant _REDEMPTION_TYPEHASH =
        keccak256("Redemption(address holder,address merchant,uint256 amount,uint256 nonce,uint64 deadline)");

    /**
     * @dev Grants `admin` the default admin role and `minter` (the escrow; may be zero and granted
     * later by the admin) the minter role. `uri_` is the ERC-1155 metadata URI template.
     */
    constructor(address admin, address minter, string memory uri_)
        ERC1155(uri_)
        DelegatedSignatures("ReturnTrace StorePoints", "1")
    {
        if (admin == address(0)) revert StorePointsZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (minter != address(0)) _grantRole(MINTER_ROLE, minter);
    }

    /// @inheritdoc IStorePoints
    function mint(address holder, address merchant, uint256 amount) external onlyRole(MINTER_ROLE) {
        if (holder == address(0) || merchant == address(0)) revert StorePointsZeroAddress();
        if (amount == 0) revert StorePointsZeroAmount();
        (uint256[] memory ids, uint256[] memory values) = _singleton(uint256(uint160(merchant)), amount);
        _update(address(0), holder, ids, values);
    }

    /// @inheritdoc IStorePoints
    function redeem(address holder, uint256 amount, uint256 nonce, uint64 deadline, bytes calldata signature) external {
        if (amount == 0) revert StorePointsZeroAmount();
        bytes32 structHash = keccak256(abi.encode(_REDEMPTION_TYPEHASH, holder, msg.sender, amount, nonce, deadline));
        _useSignature(holder, structHash, nonce, deadline, signature);
        (uint256[] memory ids, uint256[] memory values) = _singleton(uint256(uint160(msg.sender)), amount);
        _update(holder, address(0), ids, values);
        emit PointsRedeemed(holder, msg.sender, amount, nonce);
    }

    /// @inheritdoc IStorePoints
    function pointsOf(address holder, address merchant) external view returns (uint256) {
        return balanceOf(holder, uint256(uint160(merchant)));
    }

    /// @inheritdoc IStorePoints
    function pointsId(address merchant) external pure returns (uint256) {
        return uint256(uint160(merchant));
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

    /// @inheritdoc ERC1155
    function supportsInterface(bytes4 interfaceId) public view override(ERC1155, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    /// @dev Only mints (from zero) and burns (to zero) are allowed.
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values) internal override {
        if (from != address(0) && to != address(0)) revert StorePointsNonTransferable();
        super._update(from, to, ids, values);
    }

    function _singleton(uint256 id, uint256 value) private pure returns (uint256[] memory ids, uint256[] memory values) {
        ids = new uint256[](1);
        values = new uint256[](1);
        ids[0] = id;
        values[0] = value;
    }
}
