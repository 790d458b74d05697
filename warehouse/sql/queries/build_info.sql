-- scope: none — when and from what the published version was built; no office's data.
select * from marts.build_info
