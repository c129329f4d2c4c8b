"""What every forge backend (Gitea today; GitHub and GitLab next) shares, apart from its wire.

``settings`` reads a backend's config table, ``body`` the hidden metadata block in an issue body,
``feed`` the second-granular change-feed cursor, ``pending`` the tokens of creates whose answer
was lost, ``settings_cache`` facts about a server remembered for a day, and ``base`` the
``ForgeBackend`` a forge subclasses with only its wire quirks. Nothing here imports a forge's
own modules, nor the local store: a forge package imports this one, never the reverse.

(Importing this package imports nothing: start-up of the local commands never pays for it.)
"""
