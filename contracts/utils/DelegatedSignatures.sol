// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IDelegatedSignatures} from "../interfaces/IDelegatedSignatures.sol";

/**
 * @dev Verification of EIP-712 messages signed by an actor and submitted by anyone: one sequential
 * nonce per signer, a deadline, and signers that are EOAs or ERC-1271 contract wallets.
 * See {IDelegatedSignatures}.
 */
abstract contract DelegatedSignatures is EIP712, IDelegatedSignatures {
    mapping(address signer => uint256) private _nonces;

    constructor(string memory name, string memory version) EIP712(name, version) {}

    /// @inheritdoc IDelegatedSignatures
    function getNonce(address signer) public view returns (uint256) {
        return _nonces[signer];
    }

    /// @inheritdoc IDelegatedSignatures
    function increaseNonce(uint256 newNonce) external {
        uint256 current = _nonces[msg.sender];
        if (newNonce <= current) revert SignatureNonceTooLow(current, newNonce);
        _nonces[msg.sender] = newNonce;
        emit NonceIncreased(msg.sender, current, newNonce);
    }

    /// @inheritdoc IDelegatedSignatures
    function getDomainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /**
     * @dev Checks deadline, nonce and signature of a message whose EIP-712 struct hash is
     * `structHash`, then consumes the nonce. The struct must contain `signer`, `nonce` and
     * `deadline`; the caller hashes them in.
     */
    function _useSignature(
        address signer,
        bytes32 structHash,
        uint256 nonce,
        uint64 deadline,
        bytes calldata signature
    ) internal {
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        uint256 expected = _nonces[signer];
        if (nonce != expected) revert SignatureInvalidNonce(signer, expected, nonce);
        if (!SignatureChecker.isValidSignatureNowCalldata(signer, _hashTypedDataV4(structHash), signature)) {
            revert SignatureInvalid(signer);
        }
        // Checked: a nonce pushed to the top by {increaseNonce} must not wrap to 0 and revive old signatures.
        _nonces[signer] = expected + 1;
    }
}
