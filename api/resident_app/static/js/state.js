// What the app knows now, shared by its sections.
export const state = {
  wallet: null, // Wallet (wallet.js) once connected
  network: null, // GET /v1/network
  signedIn: false,
  member: false,
  ledgerTime: null, // from GET /v1/clock
  clock: null, // the whole GET /v1/clock answer
};
