# Adds the CMake build of the module to NGINX's "make modules".
cat << END                                            >> $NGX_MAKEFILE

modules: ngx_gist_cmake

ngx_gist_cmake: $NGX_OBJS/ngx_auto_config.h
	cmake $ngx_gist_cmake_args
	cmake --build $ngx_gist_objs/gist-cmake -j2
	cp $ngx_gist_objs/gist-cmake/ngx_http_gist_module.so $ngx_gist_objs/ngx_http_gist_module.so

.PHONY: ngx_gist_cmake
END
