// The prepaid booking balance: credits moved once into the lease market's balance (the vault
// holds them), so that each booking the balance covers moves no token and costs less gas. The
// resident prepays (with a permit when the allowance is short) and withdraws what is left.

import { act, prepay, receiptLines } from "./actions.js";
import { t } from "./i18n.js";
import { refreshBalance, showPrepaid } from "./resident.js";
import { state } from "./state.js";
import { $, el, guarded, say } from "./ui.js";

async function move(withdraw) {
  const amount = Number(new FormData($("#prepaid-form")).get("amount"));
  const result = withdraw
    ? await act(state.wallet, "withdraw-prepaid", { amount })
    : await prepay(state.wallet, amount);
  const moved = result.events.find((e) => e.event === (withdraw ? "PrepaidWithdrawn" : "PrepaidDeposited"));
  $("#prepaid-receipt").replaceChildren(...receiptLines(result).map((line) => el("li", {}, line)));
  say("");
  await refreshBalance();
  // Then the chain's own figure: the read model refreshBalance asked may lag a block behind.
  if (moved) showPrepaid(Number(moved.args.balance));
}

$("#prepaid-form").addEventListener("submit", (event) => {
  event.preventDefault();
  guarded($("#prepay"), () => move(false));
});
$("#withdraw-prepaid").addEventListener("click", () => guarded($("#withdraw-prepaid"), () => move(true)));
