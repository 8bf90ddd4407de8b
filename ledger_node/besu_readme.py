"""OUT/README.md of the Besu export, rendered from ledger_node/templates/besu_README.md."""

from __future__ import annotations

import functools

import jinja2

from ledger_node import besu_network as net
from ledger_node.config import NodeConfig

TEMPLATE = "besu_README.md"


@functools.cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("ledger_node", "templates"),
        # Markdown, not HTML: nothing to escape. Block tags take their own line away.
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template(TEMPLATE)


def readme(result: net.ExportResult, config: NodeConfig) -> str:
    """What the network is, who runs which node, the files, and how to start it."""
    return _template().render(
        nodes=result.nodes,
        state=result.state,
        migration_file=net.MIGRATION_FILE,
        allowlist=result.allowlist,
        allowlist_source=result.allowlist_source,
        chain_id=config.chain_id,
        authority=config.authority,
        block_period=net.block_period_seconds(config.block_period),
        epoch_length=net.EPOCH_LENGTH,
        round_timeout=net.REQUEST_TIMEOUT_SECONDS,
        genesis_file=net.GENESIS_FILE,
        keystore_file=net.KEYSTORE_FILE,
        config_file=net.CONFIG_FILE,
        permissions_file=net.PERMISSIONS_FILE,
        data_dir=net.DATA_DIR,
        raw_key_file=net.RAW_KEY_FILE,
        password_env=net.PASSWORD_ENV,
        decrypt_function=net.DECRYPT_FUNCTION,
        decrypt_commands=[net.decrypt_command(node.name) for node in result.nodes],
    )
