/** Who is calling, as established by the token (chat) or the access key (identity/admin). */
export interface ChatCaller {
  userId: string;
  scopes: ReadonlySet<string>;
  /** When the caller's token expires (epoch ms). */
  tokenExpiresAt?: number;
}

/** What a token's scopes allow on chat (ACS: chat, chat.join, chat.join.limited). */
export type ChatPermission = "use" | "manageThreads" | "manageParticipants";

export function allows(caller: ChatCaller, permission: ChatPermission): boolean {
  const s = caller.scopes;
  switch (permission) {
    case "use":
      return s.has("chat") || s.has("chat.join") || s.has("chat.join.limited");
    case "manageThreads":
      return s.has("chat");
    case "manageParticipants":
      return s.has("chat") || s.has("chat.join");
  }
}
