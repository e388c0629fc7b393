{
  "targets": [
    {
      "target_name": "osdeploy_tftp",
      "sources": ["tftp_transfer.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"type": "none"}]]
    }
  ]
}
