"""`python -m bot_actions`: serve bot-actions (see `bot_actions.app`)."""

from bot_actions.app import main

main()
