"""Model adapters: Wan2.2 generators (`models.wan`), the CLIP scorer (`models.clip`) and the YOLO
detector (`models.detector`). Each loads once per process (`models.cache`), from a local path or
a hub id, and knows nothing about Prefect."""
import logging


def _quiet_diffusers_torchao_notice(record: logging.LogRecord) -> bool:
    # With torchao installed (the fp8 extra, models.precision), diffusers 0.42 logs "Unable to
    # import `torchao` Tensor objects" at import in every process: it looks for NF4 and uintx
    # tensor classes that torchao 0.16 moved. Those matter only for loading checkpoints saved
    # with torchao, which clipmill never does; the notice would sit in every worker's log.
    return "Unable to import `torchao` Tensor objects" not in record.getMessage()


# Before any diffusers import (this package's modules import it): a logger's filters apply to
# records logged on it from then on, and diffusers logs this one on its module's own logger.
logging.getLogger("diffusers.quantizers.torchao.torchao_quantizer").addFilter(_quiet_diffusers_torchao_notice)
