// A resident's action on the ledger: the server prepares the EIP-712 ForwardRequest
// (POST /v1/prepare/<action>), the wallet signs it (eth_signTypedData_v4), the API relays it
// (POST /v1/relay/forward) and answers the transaction with its decoded events.

import { api, ApiError } from "./api.js";
import { t } from "./i18n.js";
import { credits, say, showSeconds } from "./ui.js";

const ALLOWANCE_SHORT = "ERC20InsufficientAllowance";

export async function relay(wallet, typed) {
  say(t("signInWallet"));
  const signature = await wallet.signTypedData(typed);
  say(t("relaying"));
  const { nonce, ...fields } = typed.message; // the forwarder reads the nonce itself
  return api("POST", "/v1/relay/forward", {
    body: { ...fields, signature, chainId: typed.domain.chainId, verifyingContract: typed.domain.verifyingContract },
  });
}

export async function act(wallet, action, fields) {
  const typed = await api("POST", `/v1/prepare/${action}`, { body: { from: wallet.address, ...fields } });
  return relay(wallet, typed);
}

// Booking and prepaying pull credits: when the allowance is short the API answers 409 and asks
// for an EIP-2612 permit, which the wallet signs before the action is prepared again with it.
async function preparePaying(wallet, action, body, value) {
  try {
    return await api("POST", `/v1/prepare/${action}`, { body });
  } catch (exc) {
    if (!(exc instanceof ApiError) || exc.status !== 409 || exc.code !== ALLOWANCE_SHORT) throw exc;
    say(t("permitNeeded"));
    const permit = await api("GET", "/v1/typed-data/permit", {
      query: { owner: wallet.address, value, spender: "market" },
    });
    const signature = await wallet.signTypedData(permit);
    return api("POST", `/v1/prepare/${action}`, {
      body: { ...body, permit: { deadline: permit.message.deadline, signature } },
    });
  }
}

export async function book(wallet, slotId, start, end, maxPrice) {
  const body = { from: wallet.address, slotId, start, end, maxPrice };
  return relay(wallet, await preparePaying(wallet, "book", body, maxPrice));
}

// Credits into the prepaid booking balance: a booking it covers moves no token (less gas).
export async function prepay(wallet, amount) {
  const body = { from: wallet.address, amount };
  return relay(wallet, await preparePaying(wallet, "deposit-prepaid", body, amount));
}

// What a relay answer's decoded events mean for the person, as lines of a receipt.
export function receiptLines(result) {
  const lines = [];
  if (!result.success) lines.push(t("receiptFailed", { tx: result.txHash }));
  for (const { event, args } of result.events) {
    if (event === "LeaseBooked") lines.push(t("receiptCharged", { price: credits(args.price) }));
    if (event === "LeaseCheckedIn") lines.push(t("receiptCheckedIn", { time: showSeconds(Number(args.at)) }));
    if (event === "LeaseSettled") {
      lines.push(t("receiptCharged", { price: credits(args.price) }));
      lines.push(t("receiptOverstay", { amount: credits(args.overstayCharge) }));
    }
    if (event === "OverstayDebtRecorded") lines.push(t("receiptOverstayDebt", { amount: credits(args.amount) }));
    if (event === "LeaseCancelled") lines.push(t("receiptRefund", { refund: credits(args.refund), retained: credits(args.retained) }));
    if (event === "LeaseNoShow") lines.push(t("receiptNoShow", { price: credits(args.price) }));
    if (event === "PrepaidDeposited" || event === "PrepaidWithdrawn") {
      const key = event === "PrepaidDeposited" ? "receiptPrepaid" : "receiptPrepaidWithdrawn";
      lines.push(t(key, { amount: credits(args.amount), balance: credits(args.balance) }));
    }
  }
  return lines;
}
