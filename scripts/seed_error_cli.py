#!/usr/bin/env python3
"""The seed document's error CLI (`error_cli`), kept only as the reference that
`scripts/bench-explain.sh` times `mmerr explain` against."""
import argparse
import json

ERROR_CODES = {
    1002: {"message": "请求频率超限", "solution": "请稍后再试", "retry": True, "backoff": 2.0, "log_level": "WARNING"},
}


class MiniMaxErrorHandler:
    def __init__(self):
        self.retry_config = {1002: {"max_retries": 5, "backoff": 2.0}}

    def handle_error(self, error_code, error_msg, context=None):
        info = ERROR_CODES.get(error_code, {"message": f"未知错误码: {error_code}", "solution": "请联系技术支持", "retry": False})
        return {
            "error_code": error_code,
            "message": info["message"],
            "solution": info["solution"],
            "retry": info.get("retry", False),
            "retry_config": self.retry_config.get(error_code),
            "context": context or {},
        }


def error_cli():
    parser = argparse.ArgumentParser(description="MiniMax错误码查询工具")
    parser.add_argument("error_code", type=int)
    parser.add_argument("--context")
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args()
    info = MiniMaxErrorHandler().handle_error(args.error_code, args.context or "")
    print(f"错误码: {info['error_code']}")
    print(f"含义: {info['message']}")
    print(f"解决方法: {info['solution']}")
    if args.verbose:
        print(json.dumps(info, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    error_cli()
