// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @dev Non-transferable compensation and voucher points, per merchant and currency.
 *
 * Points issued by merchant `M` for an order in currency `C` are kept under token id
 * `uint256(keccak256(abi.encode(M, C)))` and can only be redeemed at `M`. One point is worth one base
 * unit of `C` (1 point = 10^-6 USDC for a USDC order, 1 wei for a native-coin order): points of
 * different currencies never mix.
 *
 * Points are minted only by the escrow, set once as the minter (no role anyone could revoke, so no
 * settlement can be blocked by an admin), and burned only when the merchant redeems them with the
 * holder's signed consent, so the holder needs no gas to spend them. They cannot be transferred or approved.
 */
interface IStorePoints {
    /// @dev Points cannot be transferred, and no operator can be approved to transfer them.
    error StorePointsNonTransferable();

    /// @dev The holder or merchant is the zero address.
    error StorePointsZeroAddress();

    /// @dev The amount to mint or redeem is zero.
    error StorePointsZeroAmount();

    /// @dev Only the minter (the escrow) may mint.
    /// @param account The caller.
    error StorePointsNotMinter(address account);

    /// @dev The minter is set once: it is `minter` already.
    /// @param minter The minter already set.
    error StorePointsMinterSet(address minter);

    /// @dev Only the admin may set the minter.
    /// @param account The caller.
    error StorePointsNotAdmin(address account);

    /// @dev Emitted when the admin sets the minter, once.
    event MinterSet(address minter);

    /**
     * @dev Emitted when `merchant` redeems `amount` of `holder`'s points with the holder's consent
     * (alongside the ERC-1155 {TransferSingle} burn event).
     */
    event PointsRedeemed(address indexed holder, address indexed merchant, address indexed currency, uint256 amount, uint256 nonce);

    /**
     * @dev Sets, once, the one account that may mint (the escrow).
     *
     * Requirements: the caller is the admin; `minter` is not zero; no minter is set.
     *
     * Emits a {MinterSet} event.
     * @param minter The account that may mint from now on (the escrow).
     */
    function setMinter(address minter) external;

    /// @dev Returns the minter (zero: none set yet).
    /// @return The minter's address.
    function minter() external view returns (address);

    /**
     * @dev Issues `amount` points of `currency` redeemable at `merchant` to `holder`.
     *
     * No ERC-1155 acceptance check is made on `holder`: issuing compensation must never depend on
     * the recipient's code (a contract refusing points would otherwise block an escrow settlement).
     *
     * Requirements:
     *
     * - the caller is the minter.
     * - `holder` and `merchant` are not the zero address and `amount` is not zero.
     *
     * Emits a {TransferSingle} event from the zero address.
     * @param holder Who receives the points.
     * @param merchant The merchant at which the points are redeemable.
     * @param currency The currency the points are worth base units of (zero: the native coin).
     * @param amount The points issued.
     */
    function mint(address holder, address merchant, address currency, uint256 amount) external;

    /**
     * @dev Burns `amount` of `holder`'s points of `currency` for the calling merchant, with the holder's
     * consent given as an EIP-712 signature of
     * `Redemption(address holder,address merchant,address currency,uint256 amount,uint256 nonce,uint64 deadline)`
     * where `merchant` is the caller. The holder may be an EOA or an ERC-1271 wallet, and cancels
     * unused consents with {IDelegatedSignatures-increaseNonce}.
     *
     * Requirements:
     *
     * - `amount` is not zero and `holder` has at least `amount` points of the caller in `currency`.
     * - `nonce` is the holder's current nonce, `deadline` has not passed and `signature` is valid.
     *
     * Emits a {TransferSingle} event to the zero address and a {PointsRedeemed} event.
     * @param holder Whose points are burned.
     * @param currency The currency of the points.
     * @param amount The points redeemed.
     * @param nonce The holder's current nonce, as signed.
     * @param deadline The consent's deadline (unix seconds), as signed.
     * @param signature The holder's EIP-712 signature of the `Redemption`.
     */
    function redeem(address holder, address currency, uint256 amount, uint256 nonce, uint64 deadline, bytes calldata signature) external;

    /// @dev Returns the points of `currency` that `holder` holds and may redeem at `merchant`.
    /// @param holder The holder.
    /// @param merchant The merchant at which they are redeemable.
    /// @param currency Their currency.
    /// @return The holder's points.
    function pointsOf(address holder, address merchant, address currency) external view returns (uint256);

    /// @dev Returns the ERC-1155 token id of `merchant`'s points in `currency`: `uint256(keccak256(abi.encode(merchant, currency)))`.
    /// @param merchant The merchant.
    /// @param currency The currency.
    /// @return The token id.
    function pointsId(address merchant, address currency) external pure returns (uint256);

    /// @dev Returns the EIP-712 type hash of redemption consents.
    /// @return keccak256 of the `Redemption` type string.
    function getRedemptionTypeHash() external pure returns (bytes32);
}
