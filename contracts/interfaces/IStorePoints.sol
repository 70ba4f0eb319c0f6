// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @dev Non-transferable compensation and voucher points, denominated per merchant.
 *
 * Points issued for merchant `M` are kept under token id `uint256(uint160(M))` and can only be
 * redeemed at `M`. One point is worth one base unit of the currency of the order that issued it
 * (e.g. 1 point = 10^-6 USDC for a USDC order, 1 wei for a native-coin order); a merchant that sells
 * in several currencies should honour points at the value of its main settlement currency.
 *
 * Points are minted only by the escrow (`MINTER_ROLE`) and burned only when the merchant redeems
 * them with the holder's signed consent, so the holder needs no gas to spend them. They cannot be
 * transferred or approved.
 */
interface IStorePoints {
    /// @dev Points cannot be transferred, and no operator can be approved to transfer them.
    error StorePointsNonTransferable();

    /// @dev The holder or merchant is the zero address.
    error StorePointsZeroAddress();

    /// @dev The amount to mint or redeem is zero.
    error StorePointsZeroAmount();

    /**
     * @dev Emitted when `merchant` redeems `amount` of `holder`'s points with the holder's consent
     * (alongside the ERC-1155 {TransferSingle} burn event).
     */
    event PointsRedeemed(address indexed holder, address indexed merchant, uint256 amount, uint256 nonce);

    /**
     * @dev Issues `amount` points redeemable at `merchant` to `holder`.
     *
     * No ERC-1155 acceptance check is made on `holder`: issuing compensation must never depend on
     * the recipient's code (a contract refusing points would otherwise block an escrow settlement).
     *
     * Requirements:
     *
     * - the caller holds `MINTER_ROLE`.
     * - `holder` and `merchant` are not the zero address and `amount` is not zero.
     *
     * Emits a {TransferSingle} event from the zero address.
     */
    function mint(address holder, address merchant, uint256 amount) external;

    /**
     * @dev Burns `amount` of `holder`'s points for the calling merchant, with the holder's consent
     * given as an EIP-712 signature of
     * `Redemption(address holder,address merchant,uint256 amount,uint256 nonce,uint64 deadline)`
     * where `merchant` is the caller. The holder may be an EOA or an ERC-1271 wallet, and cancels
     * unused consents with {IDelegatedSignatures-increaseNonce}.
     *
     * Requirements:
     *
     * - `amount` is not zero and `holder` has at least `amount` points of the caller.
     * - `nonce` is the holder's current nonce, `deadline` has not passed and `signature` is valid.
     *
     * Emits a {TransferSingle} event to the zero address and a {PointsRedeemed} event.
     */
    function redeem(address holder, uint256 amount, uint256 nonce, uint64 deadline, bytes calldata signature) external;

    /// @dev Returns the points `holder` holds that are redeemable at `merchant`.
    function pointsOf(address holder, address merchant) external view returns (uint256);

    /// @dev Returns the ERC-1155 token id of `merchant`'s points: `uint256(uint160(merchant))`.
    function pointsId(address merchant) external pure returns (uint256);

    /// @dev Returns the EIP-712 type hash of redemption consents.
    function getRedemptionTypeHash() external pure returns (bytes32);
}
